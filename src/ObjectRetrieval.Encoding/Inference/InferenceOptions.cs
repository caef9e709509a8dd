namespace ObjectRetrieval.Encoding.Inference;

/// <summary>Which ONNX Runtime execution provider to ask for.</summary>
public enum ExecutionProviderPreference
{
    /// <summary>CUDA when it loads, otherwise CPU (logged at information level).</summary>
    Auto,

    /// <summary>CPU only; never touches CUDA.</summary>
    Cpu,

    /// <summary>CUDA is expected: a fallback to CPU still happens but is logged as a warning.</summary>
    Cuda,
}

/// <summary>ONNX Runtime session settings shared by the image and text encoders.</summary>
public sealed record InferenceOptions
{
    public ExecutionProviderPreference Provider { get; init; } = ExecutionProviderPreference.Auto;

    public int CudaDeviceId { get; init; }

    /// <summary>Threads ONNX Runtime uses inside one operator on CPU; 0 lets it choose.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// Lets ONNX Runtime's CPU threads spin between operators. Off by default: spinning threads take the
    /// cores that the decode stage needs, and the pipeline loses more than inference gains.
    /// </summary>
    public bool AllowSpinning { get; init; }
}
