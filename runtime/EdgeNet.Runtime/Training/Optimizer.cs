namespace EdgeNet.Training;

/// <summary>The update rule: SGD (with momentum), Adam, or RMSprop.</summary>
public enum OptimizerKind
{
    /// <summary>SGD, with optional momentum, dampening and Nesterov (PyTorch's formula).</summary>
    Sgd,
    /// <summary>Adam.</summary>
    Adam,
    /// <summary>RMSprop.</summary>
    RmsProp,
}

/// <summary>Optimizer settings, with PyTorch's defaults.</summary>
public sealed record OptimizerOptions
{
    /// <summary>The update rule.</summary>
    public OptimizerKind Kind { get; init; } = OptimizerKind.Sgd;
    /// <summary>The base learning rate (the schedule scales it per epoch).</summary>
    public float LearningRate { get; init; } = 0.01f;
    /// <summary>SGD momentum (0: none); RMSprop momentum.</summary>
    public float Momentum { get; init; }
    /// <summary>SGD momentum dampening.</summary>
    public float Dampening { get; init; }
    /// <summary>SGD with Nesterov momentum.</summary>
    public bool Nesterov { get; init; }
    /// <summary>L2 weight decay added to the gradients (PyTorch's weight_decay).</summary>
    public float WeightDecay { get; init; }
    /// <summary>Adam's first-moment decay.</summary>
    public float Beta1 { get; init; } = 0.9f;
    /// <summary>Adam's second-moment decay.</summary>
    public float Beta2 { get; init; } = 0.999f;
    /// <summary>RMSprop's smoothing constant.</summary>
    public float Alpha { get; init; } = 0.99f;   // RMSprop smoothing
    /// <summary>The denominator's epsilon of Adam and RMSprop; -1 for PyTorch's default (1e-8).</summary>
    public float Eps { get; init; } = -1;         // -1: 1e-8 for both Adam and RMSprop (PyTorch's defaults)
}

/// <summary>
/// SGD (momentum, dampening, Nesterov, weight decay), Adam (bias-corrected) and RMSprop with PyTorch's exact update
/// formulas (torch.optim, foreach=False), so a step here equals a step there to float rounding.
/// </summary>
public sealed class Optimizer(OptimizerOptions o)
{
    /// <summary>The settings it was made with.</summary>
    public OptimizerOptions Options { get; } = o;
    int step;

    /// <summary>One update of <paramref name="parameters"/> from their gradients at learning rate <paramref name="lr"/>.</summary>
    public void Step(ReadOnlySpan<Parameter> parameters, float lr)
    {
        step++;
        float eps = Options.Eps < 0 ? 1e-8f : Options.Eps;
        foreach (var p in parameters)
        {
            if (!p.Trainable) continue;
            var w = p.Value; var g = p.Grad;
            switch (Options.Kind)
            {
                case OptimizerKind.Sgd:
                    {
                        float mu = Options.Momentum, wd = Options.WeightDecay;
                        if (mu != 0 && p.State1 is null) p.State1 = new float[w.Length];
                        for (int i = 0; i < w.Length; i++)
                        {
                            float d = g[i] + wd * w[i];
                            if (mu != 0)
                            {
                                // PyTorch: the first step copies the gradient into the buffer (no dampening).
                                float b = step == 1 ? d : mu * p.State1![i] + (1 - Options.Dampening) * d;
                                p.State1![i] = b;
                                d = Options.Nesterov ? d + mu * b : b;
                            }
                            w[i] -= lr * d;
                        }
                        break;
                    }
                case OptimizerKind.Adam:
                    {
                        p.State1 ??= new float[w.Length]; p.State2 ??= new float[w.Length];
                        float b1 = Options.Beta1, b2 = Options.Beta2;
                        float bc1 = 1 - MathF.Pow(b1, step), bc2Sqrt = MathF.Sqrt(1 - MathF.Pow(b2, step));
                        float stepSize = lr / bc1;
                        for (int i = 0; i < w.Length; i++)
                        {
                            float d = g[i] + Options.WeightDecay * w[i];
                            float m = p.State1[i] = p.State1[i] * b1 + d * (1 - b1);   // lerp, as torch does
                            float v = p.State2[i] = p.State2[i] * b2 + (1 - b2) * d * d;
                            w[i] -= stepSize * m / (MathF.Sqrt(v) / bc2Sqrt + eps);
                        }
                        break;
                    }
                case OptimizerKind.RmsProp:
                    {
                        p.State1 ??= new float[w.Length];
                        float a = Options.Alpha;
                        if (Options.Momentum != 0) p.State2 ??= new float[w.Length];
                        for (int i = 0; i < w.Length; i++)
                        {
                            float d = g[i] + Options.WeightDecay * w[i];
                            float v = p.State1[i] = a * p.State1[i] + (1 - a) * d * d;
                            float u = d / (MathF.Sqrt(v) + eps);
                            if (Options.Momentum != 0) u = p.State2![i] = Options.Momentum * p.State2[i] + u;
                            w[i] -= lr * u;
                        }
                        break;
                    }
            }
        }
    }
}

/// <summary>How the learning rate changes over epochs: constant, stepped, or cosine-annealed.</summary>
public enum ScheduleKind
{
    /// <summary>The same rate every epoch.</summary>
    Constant,
    /// <summary>Multiplied by gamma every step-size epochs.</summary>
    Step,
    /// <summary>Cosine annealing to 0 over the run.</summary>
    Cosine,
}

/// <summary>Learning rate per epoch: constant, step (×gamma every stepSize epochs) or cosine annealing to 0.</summary>
public sealed record LrSchedule(ScheduleKind Kind = ScheduleKind.Constant, int StepSize = 10, float Gamma = 0.1f)
{
    /// <summary>The learning rate of epoch <paramref name="epoch"/> (from 0) of <paramref name="epochs"/>.</summary>
    public float At(float baseLr, int epoch, int epochs) => Kind switch
    {
        ScheduleKind.Step => baseLr * MathF.Pow(Gamma, epoch / Math.Max(1, StepSize)),
        ScheduleKind.Cosine => baseLr * 0.5f * (1 + MathF.Cos(MathF.PI * epoch / Math.Max(1, epochs))),
        _ => baseLr,
    };
}
