using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Encoding.Imaging;
using ObjectRetrieval.Encoding.Inference;
using ObjectRetrieval.Encoding.Models;

namespace ObjectRetrieval.Encoding;

/// <summary>
/// Image bytes → <see cref="ImageRepresentation"/>. Requests from any number of concurrent callers meet
/// in one queue and flow through three overlapping stages (see ImageEncoder.Pipeline.cs): decode
/// workers, a batcher that forms batches of up to <see cref="ImageEncoderOptions.MaxBatchSize"/> views
/// and runs the shared ONNX session, and aggregation workers that normalise the patches, aggregate them
/// with the given <see cref="IAggregator"/> and complete each caller's task.
/// </summary>
public sealed partial class ImageEncoder : IAsyncDisposable
{
    private readonly ImageEncoderOptions _options;
    private readonly IAggregator _aggregator;
    private readonly ILogger _logger;
    private readonly ImageTower _tower;
    private int _disposed;

    private ImageEncoder(ModelPackage package, ImageEncoderOptions options, IAggregator aggregator, ILogger logger, ImageTower tower)
    {
        Package = package;
        _options = options;
        _aggregator = aggregator;
        _logger = logger;
        _tower = tower;
        Preprocessor = new ImagePreprocessor(package.Image, options.Limits, options.Tiling, tower.ImageSize, options.Coverage);
        _requests = Channel.CreateBounded<EncodeJob>(new BoundedChannelOptions(options.QueueCapacity) { FullMode = BoundedChannelFullMode.Wait });
        _decoded = Channel.CreateBounded<EncodeJob>(new BoundedChannelOptions(Math.Max(2, options.MaxBatchSize * 2)) { SingleReader = true });
        _inferred = Channel.CreateBounded<InferredBatch>(new BoundedChannelOptions(2) { SingleWriter = true });
        _pipeline = StartPipeline();
    }

    public ModelPackage Package { get; }

    public int Dimension => _tower.Dimension;

    /// <summary>Model input side in use (may differ from the package default).</summary>
    public int ImageSize => _tower.ImageSize;

    /// <summary>Patches per side of the whole-image grid.</summary>
    public int GridSize => _tower.GridSize;

    /// <summary>"CUDA" or "CPU".</summary>
    public string ExecutionProvider => _tower.ExecutionProvider;

    /// <summary>Why CUDA is not used, when it was tried and failed.</summary>
    public string? FallbackReason => _tower.FallbackReason;

    public string AggregatorName => _aggregator.Name;

    public ImagePreprocessor Preprocessor { get; }

    /// <summary>The bare image tower, for benchmarks that feed pre-decoded batches.</summary>
    public ImageTower Tower => _tower;

    public EncoderStatistics Statistics { get; } = new();

    /// <summary>Number of requests waiting for a decode worker.</summary>
    public int QueuedRequests => _requests.Reader.Count;

    /// <summary>Opens the package's image tower (sharing the process-wide session) and starts the pipeline.</summary>
    public static ImageEncoder Create(ModelPackage package, ImageEncoderOptions options, IAggregator aggregator, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(package);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(aggregator);
        options.Validate();
        logger ??= NullLogger.Instance;
        ImageTower tower = ImageTower.Open(package, options.Inference, logger, options.ImageSize);
        logger.LogInformation(
            "Image encoder for {Model} {Version}: input {Size} px, {Grid}×{Grid} patches, D={Dimension}, batches of {Batch} views, {Provider}.",
            package.Name, package.Version, tower.ImageSize, tower.GridSize, tower.GridSize, tower.Dimension, options.MaxBatchSize, tower.ExecutionProvider);
        return new ImageEncoder(package, options, aggregator, logger, tower);
    }

    /// <summary>Encodes one image. Refused inputs throw <see cref="ImageDecodeException"/>.</summary>
    public async Task<ImageRepresentation> EncodeAsync(ImageSource source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var job = new EncodeJob(source, cancellationToken);
        using CancellationTokenRegistration registration = cancellationToken.CanBeCanceled
            ? cancellationToken.Register(static state => ((EncodeJob)state!).Cancel(), job)
            : default;
        EncoderMetrics.Queue(EncoderMetrics.Towers.Image, +1);
        try
        {
            await _requests.Writer.WriteAsync(job, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Never queued: no decode worker will take it off.
            EncoderMetrics.Queue(EncoderMetrics.Towers.Image, -1);
            throw;
        }

        return await job.Completion.Task.ConfigureAwait(false);
    }

    /// <summary>Encodes one image from its bytes.</summary>
    public Task<ImageRepresentation> EncodeAsync(ReadOnlyMemory<byte> bytes, string imageId, CancellationToken cancellationToken = default) =>
        EncodeAsync(ImageSource.FromBytes(imageId, bytes), cancellationToken);

    /// <summary>
    /// Encodes a stream of images with up to <see cref="ImageEncoderOptions.QueueCapacity"/> in flight and
    /// yields one result per input, in input order. Refused images come back as failed results, not exceptions.
    /// </summary>
    public async IAsyncEnumerable<EncodeResult> EncodeManyAsync(IAsyncEnumerable<ImageSource> sources, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var inFlight = new Queue<(string ImageId, Task<ImageRepresentation> Task)>();
        await foreach (ImageSource source in sources.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            inFlight.Enqueue((source.ImageId, EncodeAsync(source, cancellationToken)));
            while (inFlight.Count >= _options.QueueCapacity)
            {
                yield return await ToResultAsync(inFlight.Dequeue()).ConfigureAwait(false);
            }
        }

        while (inFlight.Count > 0)
        {
            yield return await ToResultAsync(inFlight.Dequeue()).ConfigureAwait(false);
        }
    }

    /// <inheritdoc cref="EncodeManyAsync(IAsyncEnumerable{ImageSource}, CancellationToken)"/>
    public IAsyncEnumerable<EncodeResult> EncodeManyAsync(IEnumerable<ImageSource> sources, CancellationToken cancellationToken = default) =>
        EncodeManyAsync(ToAsync(sources), cancellationToken);

    /// <summary>Stops accepting requests, finishes those already queued, and releases the session.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _requests.Writer.TryComplete();
        await _pipeline.ConfigureAwait(false);
        _tower.Dispose();
    }

    private static async Task<EncodeResult> ToResultAsync((string ImageId, Task<ImageRepresentation> Task) item)
    {
        try
        {
            return new EncodeResult(item.ImageId, await item.Task.ConfigureAwait(false), null);
        }
        catch (ImageDecodeException ex)
        {
            return new EncodeResult(item.ImageId, null, ex);
        }
    }

    private static async IAsyncEnumerable<ImageSource> ToAsync(IEnumerable<ImageSource> sources)
    {
        foreach (ImageSource source in sources)
        {
            yield return source;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }
}
