using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace ObjectRetrieval.Encoding.Inference;

/// <summary>
/// One <see cref="InferenceSession"/> per model file and settings for the whole process: sessions are
/// large (weights, CUDA context) and thread-safe, so every encoder shares one. Reference-counted; the
/// last <see cref="Dispose"/> closes it.
/// </summary>
public sealed class SharedSession : IDisposable
{
    private static readonly ConcurrentDictionary<SessionKey, SharedSession> Sessions = new();
    private static readonly Lock Gate = new();

    private readonly SessionKey _key;
    private int _references;

    private SharedSession(SessionKey key, InferenceSession session, string provider, string? fallbackReason)
    {
        _key = key;
        Session = session;
        ExecutionProvider = provider;
        FallbackReason = fallbackReason;
    }

    public InferenceSession Session { get; }

    /// <summary>"CUDA" or "CPU": the provider that actually runs.</summary>
    public string ExecutionProvider { get; }

    /// <summary>Why CUDA was not used when it was asked for (null when CUDA runs or CPU was asked for).</summary>
    public string? FallbackReason { get; }

    /// <summary>Returns the process-wide session for <paramref name="modelPath"/>, creating it on first use.</summary>
    public static SharedSession Acquire(string modelPath, InferenceOptions options, ILogger logger)
    {
        var key = new SessionKey(Path.GetFullPath(modelPath), options);
        lock (Gate)
        {
            if (!Sessions.TryGetValue(key, out SharedSession? shared))
            {
                (InferenceSession session, string provider, string? reason) = SessionFactory.Create(key.Path, options, logger);
                shared = new SharedSession(key, session, provider, reason);
                Sessions[key] = shared;
            }

            shared._references++;
            return shared;
        }
    }

    /// <summary>How many sessions are open in this process (for tests and diagnostics).</summary>
    public static int OpenSessionCount => Sessions.Count;

    public void Dispose()
    {
        lock (Gate)
        {
            if (_references == 0) return;
            if (--_references > 0) return;
            Sessions.TryRemove(_key, out _);
        }

        Session.Dispose();
    }

    private readonly record struct SessionKey(string Path, InferenceOptions Options);
}

/// <summary>Builds sessions with the CUDA → CPU fallback.</summary>
internal static class SessionFactory
{
    public static (InferenceSession Session, string Provider, string? FallbackReason) Create(string modelPath, InferenceOptions options, ILogger logger)
    {
        string? fallbackReason = null;
        if (options.Provider != ExecutionProviderPreference.Cpu)
        {
            SessionOptions? cudaOptions = null;
            // ONNX Runtime prints its own error line when the CUDA libraries are missing; the fallback below
            // reports the same cause through our logger, so the native logger is quietened for the attempt.
            OrtEnv environment = OrtEnv.Instance();
            OrtLoggingLevel previousLevel = environment.EnvLogLevel;
            try
            {
                environment.EnvLogLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
                cudaOptions = NewOptions(options);
                // Throws right here when the CUDA libraries (cudart, cublasLt, libcuda) are absent.
                cudaOptions.AppendExecutionProvider_CUDA(options.CudaDeviceId);
                var session = new InferenceSession(modelPath, cudaOptions);
                logger.LogInformation("ONNX Runtime runs {Model} on the CUDA execution provider (device {Device}).", Path.GetFileName(modelPath), options.CudaDeviceId);
                return (session, "CUDA", null);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                fallbackReason = ex.Message;
                LogLevel level = options.Provider == ExecutionProviderPreference.Cuda ? LogLevel.Warning : LogLevel.Information;
                logger.Log(level, "CUDA execution provider unavailable for {Model} ({Reason}); falling back to CPU.", Path.GetFileName(modelPath), FirstLine(ex.Message));
            }
            finally
            {
                environment.EnvLogLevel = previousLevel;
                cudaOptions?.Dispose();
            }
        }

        // Fresh options: the failed ones may hold a half-registered provider.
        using SessionOptions cpuOptions = NewOptions(options);
        var cpuSession = new InferenceSession(modelPath, cpuOptions);
        logger.LogInformation("ONNX Runtime runs {Model} on the CPU execution provider.", Path.GetFileName(modelPath));
        return (cpuSession, "CPU", fallbackReason);
    }

    private static SessionOptions NewOptions(InferenceOptions options)
    {
        var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        if (options.IntraOpThreads > 0) sessionOptions.IntraOpNumThreads = options.IntraOpThreads;
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", options.AllowSpinning ? "1" : "0");
        return sessionOptions;
    }

    private static string FirstLine(string message)
    {
        int newline = message.IndexOf('\n');
        return newline < 0 ? message : message[..newline].TrimEnd();
    }
}
