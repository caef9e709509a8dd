using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using ObjectRetrieval.Core.Embeddings;
using ObjectRetrieval.Encoding.Inference;
using ObjectRetrieval.Encoding.Models;
using ObjectRetrieval.Encoding.Text;

namespace ObjectRetrieval.Encoding;

/// <summary>
/// Query text → unit query vector with the package's prompt-template ensemble: each template is filled
/// with the query, all are embedded in one batch, normalised, averaged and normalised again.
/// Thread-safe; the session is shared process-wide.
/// </summary>
public sealed class TextEncoder : IDisposable
{
    public const string InputIdsName = "input_ids";
    public const string AttentionMaskName = "attention_mask";
    public const string OutputName = "text_embeds";

    private readonly SharedSession _shared;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames = [OutputName];
    private readonly KeyValuePair<string, object?>[] _inferenceTags;

    private TextEncoder(ModelPackage package, ClipTokenizer tokenizer, SharedSession shared)
    {
        Package = package;
        Tokenizer = tokenizer;
        _shared = shared;
        _inferenceTags = EncoderMetrics.InferenceTags(EncoderMetrics.Towers.Text, shared.ExecutionProvider);
        _inputNames = package.Text.HasAttentionMask ? [InputIdsName, AttentionMaskName] : [InputIdsName];
    }

    public ModelPackage Package { get; }

    public ClipTokenizer Tokenizer { get; }

    public int Dimension => Package.EmbeddingDim;

    public IReadOnlyList<string> PromptTemplates => Package.PromptTemplates;

    public string ExecutionProvider => _shared.ExecutionProvider;

    public static TextEncoder Create(ModelPackage package, InferenceOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(package);
        logger ??= NullLogger.Instance;
        ClipTokenizer tokenizer = ClipTokenizer.Load(package);
        SharedSession shared;
        try
        {
            shared = SharedSession.Acquire(package.TextOnnxPath, options ?? new InferenceOptions(), logger);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelPackageException($"{package.Text.Onnx} could not be loaded: {ex.Message}", "text.onnx", package.Text.Onnx, ex);
        }

        try
        {
            ImageTower.Require(shared.Session.InputMetadata, InputIdsName, package.Text.Onnx, "input");
            if (package.Text.HasAttentionMask) ImageTower.Require(shared.Session.InputMetadata, AttentionMaskName, package.Text.Onnx, "input");
            ImageTower.Require(shared.Session.OutputMetadata, OutputName, package.Text.Onnx, "output");
        }
        catch
        {
            shared.Dispose();
            throw;
        }

        return new TextEncoder(package, tokenizer, shared);
    }

    /// <summary>The ensemble query vector (unit length) for <paramref name="query"/>.</summary>
    public float[] EmbedQuery(string query)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        var prompts = new string[PromptTemplates.Count];
        for (int i = 0; i < prompts.Length; i++) prompts[i] = PromptTemplates[i].Replace("{}", query.Trim(), StringComparison.Ordinal);

        float[] embeddings = EmbedTexts(prompts);
        var mean = new float[Dimension];
        for (int i = 0; i < prompts.Length; i++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(mean, embeddings.AsSpan(i * Dimension, Dimension), mean);
        }

        VectorMath.Normalize(mean);
        return mean;
    }

    /// <inheritdoc cref="EmbedQuery"/>
    /// <remarks>Counted in the text tower's queue depth until a thread pool thread starts it.</remarks>
    public async Task<float[]> EmbedQueryAsync(string query, CancellationToken cancellationToken = default)
    {
        int left = 0;
        void Leave()
        {
            if (Interlocked.Exchange(ref left, 1) == 0) EncoderMetrics.Queue(EncoderMetrics.Towers.Text, -1);
        }

        EncoderMetrics.Queue(EncoderMetrics.Towers.Text, +1);
        try
        {
            return await Task.Run(
                () =>
                {
                    Leave();
                    return EmbedQuery(query);
                },
                cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Cancelled before it started: it leaves the queue here instead.
            Leave();
        }
    }

    /// <summary>Embeds each text as is (no templates); returns texts.Count unit rows of <see cref="Dimension"/> values.</summary>
    public float[] EmbedTexts(IReadOnlyList<string> texts)
    {
        int count = texts.Count;
        int length = Package.Text.ContextLength;
        var ids = new long[count * length];
        long[]? mask = Package.Text.HasAttentionMask ? new long[count * length] : null;
        for (int i = 0; i < count; i++)
        {
            Tokenizer.Encode(texts[i], ids.AsSpan(i * length, length), mask is null ? default : mask.AsSpan(i * length, length));
        }

        var output = new float[count * Dimension];
        using OrtValue idsValue = OrtValue.CreateTensorValueFromMemory(ids, [count, length]);
        using OrtValue? maskValue = mask is null ? null : OrtValue.CreateTensorValueFromMemory(mask, [count, length]);
        using OrtValue outputValue = OrtValue.CreateTensorValueFromMemory(output, [count, Dimension]);
        using var runOptions = new RunOptions();
        OrtValue[] inputs = maskValue is null ? [idsValue] : [idsValue, maskValue];
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        _shared.Session.Run(runOptions, _inputNames, inputs, _outputNames, [outputValue]);
        EncoderMetrics.Inference(System.Diagnostics.Stopwatch.GetElapsedTime(started), _inferenceTags);
        VectorMath.NormalizeRows(output, count, Dimension);
        VectorMath.EnsureFinite(output, "Text embedding");
        return output;
    }

    public void Dispose() => _shared.Dispose();
}
