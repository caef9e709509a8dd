using Google.Protobuf;
using ObjectRetrieval.Demo.Onnx.Proto;

namespace ObjectRetrieval.Demo.Onnx;

/// <summary>A small fluent writer of ONNX graphs (opset 17, IR version 8) over the onnx.proto subset.</summary>
internal sealed class OnnxGraphBuilder(string graphName)
{
    public const long IrVersion = 8;
    public const long Opset = 17;

    private readonly GraphProto _graph = new() { Name = graphName };
    private int _nodeCount;

    public string Input(string name, TensorProto.Types.DataType type, params object[] shape)
    {
        _graph.Input.Add(ValueInfo(name, type, shape));
        return name;
    }

    public void Output(string name, TensorProto.Types.DataType type, params object[] shape) => _graph.Output.Add(ValueInfo(name, type, shape));

    public string Floats(string name, float[] values, params long[] dims)
    {
        long expected = dims.Aggregate(1L, (a, b) => a * b);
        if (expected != values.Length) throw new ArgumentException($"Initializer {name}: {values.Length} values for shape [{string.Join(",", dims)}].");
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        byte[] raw = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length); // ONNX raw_data is little-endian, as is this platform
        tensor.RawData = ByteString.CopyFrom(raw);
        _graph.Initializer.Add(tensor);
        return name;
    }

    public string Int64s(string name, long[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.AddRange(dims);
        tensor.Int64Data.AddRange(values);
        _graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Node(string opType, string[] inputs, string? output = null, params AttributeProto[] attributes)
    {
        string name = $"{opType.ToLowerInvariant()}_{_nodeCount++}";
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output ?? name + "_out");
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return node.Output[0];
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public byte[] ToModelBytes(string producer, string docString)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = producer,
            ProducerVersion = "1",
            DocString = docString,
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model.ToByteArray();
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, object[] shape)
    {
        var tensorShape = new TensorShapeProto();
        foreach (object dim in shape)
        {
            tensorShape.Dim.Add(dim switch
            {
                int value => new TensorShapeProto.Types.Dimension { DimValue = value },
                long value => new TensorShapeProto.Types.Dimension { DimValue = value },
                string symbol => new TensorShapeProto.Types.Dimension { DimParam = symbol },
                _ => throw new ArgumentException($"Dimension {dim} must be a number or a symbol."),
            });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = tensorShape } },
        };
    }
}
