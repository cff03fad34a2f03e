using EdgeNet.Converter.Onnx;
using EdgeNet.Format;

namespace EdgeNet.Converter;

/// <summary>ONNX element types and the runtime's.</summary>
public static class OnnxTypes
{
    /// <summary>The runtime type of ONNX element type <paramref name="onnx"/>, or null for one EdgeNet does not hold.</summary>
    public static DataType? Element(int onnx) => (TensorProto.Types.DataType)onnx switch
    {
        TensorProto.Types.DataType.Float => DataType.Float32,
        TensorProto.Types.DataType.Int64 => DataType.Int64,
        TensorProto.Types.DataType.Int32 => DataType.Int32,
        TensorProto.Types.DataType.Bool => DataType.Bool,
        TensorProto.Types.DataType.Int8 => DataType.Int8,
        TensorProto.Types.DataType.Uint8 => DataType.UInt8,
        _ => null,
    };

    /// <summary>The ONNX element type of a runtime type.</summary>
    public static int Onnx(DataType t) => (int)(t switch
    {
        DataType.Float32 => TensorProto.Types.DataType.Float,
        DataType.Int64 => TensorProto.Types.DataType.Int64,
        DataType.Int32 => TensorProto.Types.DataType.Int32,
        DataType.Bool => TensorProto.Types.DataType.Bool,
        DataType.Int8 => TensorProto.Types.DataType.Int8,
        DataType.UInt8 => TensorProto.Types.DataType.Uint8,
        DataType.Int16 => TensorProto.Types.DataType.Int16,
        _ => TensorProto.Types.DataType.Undefined,
    });
}
