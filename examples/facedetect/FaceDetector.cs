using EdgeNet.Devices.Camera;
using EdgeNet.Engine;
using Frame = EdgeNet.Devices.Camera.Frame;
using EdgeNet.Format;

namespace EdgeNet.Examples.FaceDetect;

/// <summary>A converted face model ready to run on frames: preprocessing, the EdgeNet session, decoding and NMS.</summary>
public sealed class FaceDetector : IDisposable
{
    readonly Session session;
    public FaceModel Model { get; }

    public FaceDetector(Model model, KernelOptions? options = null)
    {
        session = new Session(model, 1, options);
        var input = model.Tensors[model.Inputs[0]].Shape.Select(d => Math.Max(d, 1)).ToArray();   // a symbolic batch is 1
        var outputs = Enumerable.Range(0, model.Outputs.Count).Select(i => session.OutputShape(i).ToArray()).ToList();
        Model = FaceModel.For(input, outputs);
    }

    /// <summary>The faces in <paramref name="image"/>, in its pixels, best first.</summary>
    public List<Detection> Detect(Frame image, float? threshold = null)
    {
        var placement = Model.Preprocess(image, session.Input(0, 1));
        session.Run(1);
        return Model.Detect(i => session.Output(i), placement, threshold);
    }

    public void Dispose() => session.Dispose();
}
