using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Onnx
{
    /// <summary>
    /// A flow's parameter or buffer as ONNX stores it: float32 (floating values) or int64 (indices); float64 for the
    /// state of a float64 flow and the constants of its arithmetic.
    /// </summary>
    internal sealed class StateTensor
    {
        private readonly double[]? doubles;

        private StateTensor(float[]? floats, long[]? longs, long[] shape, double[]? doubles = null)
        {
            Floats = floats;
            Longs = longs;
            Shape = shape;
            this.doubles = doubles;
        }

        public float[]? Floats { get; }

        public long[]? Longs { get; }

        public long[] Shape { get; }

        public static StateTensor Float(float[] values, long[] shape) => new(values, null, shape);

        public static StateTensor Int64(long[] values, long[] shape) => new(null, values, shape);

        public static StateTensor Double(double[] values, long[] shape) => new(null, null, shape, values);

        /// <summary>Copies a TorchSharp tensor: floating types become float32 (or float64), integer types int64.</summary>
        public static StateTensor From(Tensor tensor, bool float64 = false)
        {
            using var scope = NewDisposeScope();
            Tensor cpu = tensor.detach().cpu().contiguous();
            long[] shape = cpu.shape;
            if (cpu.is_floating_point() && float64) return Double(cpu.to_type(ScalarType.Float64).data<double>().ToArray(), shape);
            if (cpu.is_floating_point()) return Float(cpu.to_type(ScalarType.Float32).data<float>().ToArray(), shape);
            if (cpu.dtype is ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte)
                return Int64(cpu.to_type(ScalarType.Int64).data<long>().ToArray(), shape);
            throw new NotSupportedException($"A flow state tensor of type {cpu.dtype} cannot be stored in ONNX.");
        }

        /// <summary>All state tensors of a module, by state key.</summary>
        public static IReadOnlyDictionary<string, StateTensor> Of(nn.Module module, bool float64 = false) =>
            module.state_dict().ToDictionary(entry => entry.Key, entry => From(entry.Value, float64));

        public static StateTensor FromProto(TensorProto proto)
        {
            long[] shape = proto.Dims.ToArray();
            long count = shape.Aggregate(1L, (a, b) => a * b);
            switch ((TensorProto.Types.DataType)proto.DataType)
            {
                case TensorProto.Types.DataType.Float:
                    float[] floats = proto.RawData.Length > 0 ? ToArray<float>(proto.RawData) : proto.FloatData.ToArray();
                    if (floats.Length != count) throw new InvalidDataException($"Initializer '{proto.Name}' holds {floats.Length} values for shape [{string.Join(", ", shape)}].");
                    return Float(floats, shape);
                case TensorProto.Types.DataType.Int64:
                    long[] longs = proto.RawData.Length > 0 ? ToArray<long>(proto.RawData) : proto.Int64Data.ToArray();
                    if (longs.Length != count) throw new InvalidDataException($"Initializer '{proto.Name}' holds {longs.Length} values for shape [{string.Join(", ", shape)}].");
                    return Int64(longs, shape);
                case TensorProto.Types.DataType.Double:
                    double[] doubles = proto.RawData.Length > 0 ? ToArray<double>(proto.RawData) : proto.DoubleData.ToArray();
                    if (doubles.Length != count) throw new InvalidDataException($"Initializer '{proto.Name}' holds {doubles.Length} values for shape [{string.Join(", ", shape)}].");
                    return Double(doubles, shape);
                default:
                    throw new InvalidDataException($"Initializer '{proto.Name}' has ONNX data type {proto.DataType}; a flow file holds only float, double and int64 tensors.");
            }
        }

        public TensorProto ToProto(string name)
        {
            var proto = new TensorProto { Name = name };
            proto.Dims.AddRange(Shape);
            if (Floats is not null)
            {
                proto.DataType = (int)TensorProto.Types.DataType.Float;
                proto.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(Floats.AsSpan()));
            }
            else if (doubles is not null)
            {
                proto.DataType = (int)TensorProto.Types.DataType.Double;
                proto.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(doubles.AsSpan()));
            }
            else
            {
                proto.DataType = (int)TensorProto.Types.DataType.Int64;
                proto.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(Longs!.AsSpan()));
            }
            return proto;
        }

        /// <summary>Copies the values into a TorchSharp tensor of the same shape and the given type.</summary>
        public Tensor ToTensor(ScalarType floatType)
        {
            if (Floats is not null) return tensor(Floats, Shape).to_type(floatType);
            if (doubles is not null) return tensor(doubles, Shape).to_type(floatType);
            return tensor(Longs!, Shape);
        }

        private static T[] ToArray<T>(ByteString bytes) where T : struct =>
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes.Span).ToArray();
    }
}
