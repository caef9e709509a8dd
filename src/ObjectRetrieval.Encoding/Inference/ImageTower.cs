using System.Diagnostics;
using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using ObjectRetrieval.Encoding.Models;

namespace ObjectRetrieval.Encoding.Inference;

/// <summary>Pooled outputs of one image-tower run: Views × D global embeddings and Views × Patches × D patch embeddings.</summary>
public sealed class ImageTowerOutput : IDisposable
{
    private float[]? _global;
    private float[]? _patches;

    internal ImageTowerOutput(float[] global, float[] patches, int views, int patchesPerView, int dimension)
    {
        _global = global;
        _patches = patches;
        Views = views;
        PatchesPerView = patchesPerView;
        Dimension = dimension;
    }

    public int Views { get; }

    public int PatchesPerView { get; }

    public int Dimension { get; }

    public ReadOnlySpan<float> Global(int view) => (_global ?? throw new ObjectDisposedException(nameof(ImageTowerOutput))).AsSpan(view * Dimension, Dimension);

    public ReadOnlySpan<float> Patches(int view) => Patches(view, 1);

    /// <summary>The patches of <paramref name="count"/> consecutive views starting at <paramref name="view"/>.</summary>
    public ReadOnlySpan<float> Patches(int view, int count) =>
        (_patches ?? throw new ObjectDisposedException(nameof(ImageTowerOutput))).AsSpan(view * PatchesPerView * Dimension, count * PatchesPerView * Dimension);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _global, null) is { } global) ArrayPool<float>.Shared.Return(global);
        if (Interlocked.Exchange(ref _patches, null) is { } patches) ArrayPool<float>.Shared.Return(patches);
    }
}

/// <summary>
/// The image ONNX graph behind a shared session: pixel batches in, embeddings out, no decoding or
/// batching. Checks the graph's inputs and outputs against the package contract when created.
/// </summary>
public sealed class ImageTower : IDisposable
{
    public const string InputName = "pixel_values";
    public const string GlobalOutputName = "image_embeds";
    public const string PatchOutputName = "patch_embeds";

    private static readonly string[] InputNames = [InputName];
    private static readonly string[] OutputNames = [GlobalOutputName, PatchOutputName];

    private readonly SharedSession _shared;
    private readonly KeyValuePair<string, object?>[] _inferenceTags;

    private ImageTower(SharedSession shared, int imageSize, int patchSize, int dimension)
    {
        _shared = shared;
        _inferenceTags = EncoderMetrics.InferenceTags(EncoderMetrics.Towers.Image, shared.ExecutionProvider);
        ImageSize = imageSize;
        PatchSize = patchSize;
        Dimension = dimension;
    }

    public int ImageSize { get; }

    public int PatchSize { get; }

    public int Dimension { get; }

    public int GridSize => ImageSize / PatchSize;

    public int PatchesPerView => GridSize * GridSize;

    public string ExecutionProvider => _shared.ExecutionProvider;

    public string? FallbackReason => _shared.FallbackReason;

    internal InferenceSession Session => _shared.Session;

    /// <param name="imageSize">Input side; defaults to the package's imageSize. Must be a multiple of the patch size.</param>
    public static ImageTower Open(ModelPackage package, InferenceOptions options, ILogger logger, int? imageSize = null)
    {
        int size = imageSize ?? package.Image.ImageSize;
        if (size <= 0 || size % package.Image.PatchSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(imageSize), size, $"Input size must be a positive multiple of the patch size {package.Image.PatchSize}.");
        }

        SharedSession shared;
        try
        {
            shared = SharedSession.Acquire(package.ImageOnnxPath, options, logger);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelPackageException($"{package.Image.Onnx} could not be loaded: {ex.Message}", "image.onnx", package.Image.Onnx, ex);
        }

        try
        {
            CheckContract(shared.Session, package);
        }
        catch
        {
            shared.Dispose();
            throw;
        }

        return new ImageTower(shared, size, package.Image.PatchSize, package.EmbeddingDim);
    }

    /// <summary>Runs <paramref name="views"/> views (views × 3 × S × S floats) through the graph.</summary>
    public ImageTowerOutput Run(float[] pixels, int views)
    {
        int valuesPerView = 3 * ImageSize * ImageSize;
        if (views <= 0 || pixels.Length < views * valuesPerView) throw new ArgumentException($"Pixel buffer holds fewer than {views} views.", nameof(pixels));

        float[] global = ArrayPool<float>.Shared.Rent(views * Dimension);
        float[] patches = ArrayPool<float>.Shared.Rent(views * PatchesPerView * Dimension);
        try
        {
            using OrtValue input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels.AsMemory(0, views * valuesPerView), [views, 3, ImageSize, ImageSize]);
            using OrtValue globalOut = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, global.AsMemory(0, views * Dimension), [views, Dimension]);
            using OrtValue patchOut = OrtValue.CreateTensorValueFromMemory(
                OrtMemoryInfo.DefaultInstance, patches.AsMemory(0, views * PatchesPerView * Dimension), [views, PatchesPerView, Dimension]);
            using var runOptions = new RunOptions();
            long started = Stopwatch.GetTimestamp();
            _shared.Session.Run(runOptions, InputNames, [input], OutputNames, [globalOut, patchOut]);
            EncoderMetrics.Inference(Stopwatch.GetElapsedTime(started), _inferenceTags);
            return new ImageTowerOutput(global, patches, views, PatchesPerView, Dimension);
        }
        catch
        {
            ArrayPool<float>.Shared.Return(global);
            ArrayPool<float>.Shared.Return(patches);
            throw;
        }
    }

    public void Dispose() => _shared.Dispose();

    private static void CheckContract(InferenceSession session, ModelPackage package)
    {
        string file = package.Image.Onnx;
        Require(session.InputMetadata, InputName, file, "input");
        Require(session.OutputMetadata, GlobalOutputName, file, "output");
        Require(session.OutputMetadata, PatchOutputName, file, "output");
        int[] patchDims = session.OutputMetadata[PatchOutputName].Dimensions;
        if (patchDims.Length != 3 || (patchDims[2] > 0 && patchDims[2] != package.EmbeddingDim))
        {
            throw new ModelPackageException(
                $"{file}: output '{PatchOutputName}' has shape [{string.Join(", ", patchDims)}]; expected [B, patches, {package.EmbeddingDim}] (embeddingDim).", "embeddingDim", file);
        }
    }

    internal static void Require(IReadOnlyDictionary<string, NodeMetadata> metadata, string name, string file, string kind)
    {
        if (!metadata.ContainsKey(name))
        {
            throw new ModelPackageException($"{file} has no {kind} named '{name}' (it has: {string.Join(", ", metadata.Keys)}).", null, file);
        }
    }
}
