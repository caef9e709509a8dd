using System.Buffers;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ObjectRetrieval.Core.Embeddings;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Encoding.Imaging;
using ObjectRetrieval.Encoding.Inference;

namespace ObjectRetrieval.Encoding;

// The three stages: requests → decode workers → decoded → batcher (inference) → inferred → aggregation workers.
public sealed partial class ImageEncoder
{
    private readonly Channel<EncodeJob> _requests;
    private readonly Channel<EncodeJob> _decoded;
    private readonly Channel<InferredBatch> _inferred;
    private readonly Task _pipeline;

    private Task StartPipeline()
    {
        var decoders = new Task[_options.DecodeWorkers];
        for (int i = 0; i < decoders.Length; i++) decoders[i] = Task.Run(DecodeLoopAsync);
        Task decoding = CompleteWhenDone(decoders, _decoded.Writer);
        Task batching = CompleteWhenDone([Task.Run(BatchLoopAsync)], _inferred.Writer);
        var aggregators = new Task[_options.AggregationWorkers];
        for (int i = 0; i < aggregators.Length; i++) aggregators[i] = Task.Run(AggregateLoopAsync);
        return Task.WhenAll([decoding, batching, .. aggregators]);
    }

    private static async Task CompleteWhenDone<T>(Task[] producers, ChannelWriter<T> writer)
    {
        try
        {
            await Task.WhenAll(producers).ConfigureAwait(false);
            writer.TryComplete();
        }
        catch (Exception ex)
        {
            writer.TryComplete(ex);
            throw;
        }
    }

    private async Task DecodeLoopAsync()
    {
        await foreach (EncodeJob job in _requests.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            EncoderMetrics.Queue(EncoderMetrics.Towers.Image, -1);
            if (job.IsFinished) continue;
            long start = Stopwatch.GetTimestamp();
            try
            {
                ReadOnlyMemory<byte> bytes = await LoadAsync(job).ConfigureAwait(false);
                job.Image = Preprocessor.Preprocess(bytes.Span);
            }
            catch (ImageDecodeException ex)
            {
                Statistics.AddFailure();
                EncoderMetrics.Failed(ex.Reason);
                job.Completion.TrySetException(ex);
                continue;
            }
            catch (OperationCanceledException)
            {
                job.Cancel();
                continue;
            }
            catch (Exception ex)
            {
                job.Completion.TrySetException(ex);
                continue;
            }
            finally
            {
                Statistics.AddDecode(Stopwatch.GetTimestamp() - start);
            }

            await _decoded.Writer.WriteAsync(job).ConfigureAwait(false);
        }
    }

    private static async ValueTask<ReadOnlyMemory<byte>> LoadAsync(EncodeJob job)
    {
        try
        {
            return await job.Source.Load(job.CancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not ImageDecodeException and not OperationCanceledException)
        {
            throw new ImageDecodeException(ImageDecodeFailure.Unreadable, $"'{job.Source.ImageId}' could not be read: {ex.Message}", ex);
        }
    }

    private async Task BatchLoopAsync()
    {
        ChannelReader<EncodeJob> reader = _decoded.Reader;
        var batch = new List<EncodeJob>(_options.MaxBatchSize);
        EncodeJob? carried = null;
        var waitLimit = new CancellationTokenSource();
        try
        {
            while (true)
            {
                batch.Clear();
                int views = 0;
                if (carried is not null)
                {
                    batch.Add(carried);
                    views = carried.Image!.ViewCount;
                    carried = null;
                }

                // Block for the first image, then gather more until the batch is full or the wait is over.
                long deadline = 0;
                while (views < _options.MaxBatchSize)
                {
                    if (reader.TryRead(out EncodeJob? next))
                    {
                        int nextViews = next.Image!.ViewCount;
                        if (batch.Count > 0 && views + nextViews > _options.MaxBatchSize)
                        {
                            carried = next;
                            break;
                        }

                        batch.Add(next);
                        views += nextViews;
                        continue;
                    }

                    if (batch.Count == 0)
                    {
                        if (!await reader.WaitToReadAsync().ConfigureAwait(false)) return;
                        continue;
                    }

                    if (deadline == 0) deadline = Stopwatch.GetTimestamp() + (long)(_options.MaxBatchWait.TotalSeconds * Stopwatch.Frequency);
                    long remaining = deadline - Stopwatch.GetTimestamp();
                    if (remaining <= 0) break;
                    if (!waitLimit.TryReset())
                    {
                        waitLimit.Dispose();
                        waitLimit = new CancellationTokenSource();
                    }

                    waitLimit.CancelAfter(TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency));
                    try
                    {
                        if (!await reader.WaitToReadAsync(waitLimit.Token).ConfigureAwait(false)) break;
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }

                if (batch.Count > 0) await RunBatchAsync(batch, views).ConfigureAwait(false);
            }
        }
        finally
        {
            waitLimit.Dispose();
        }
    }

    private async Task RunBatchAsync(List<EncodeJob> batch, int views)
    {
        int valuesPerView = 3 * ImageSize * ImageSize;
        float[] pixels = ArrayPool<float>.Shared.Rent(views * valuesPerView);
        var members = new BatchMember[batch.Count];
        int offset = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            EncodeJob job = batch[i];
            PreprocessedImage image = job.Image!;
            image.Pixels.CopyTo(pixels.AsSpan(offset * valuesPerView));
            members[i] = new BatchMember(job, offset, image.ViewCount, image.Width, image.Height, image.Layout);
            offset += image.ViewCount;
            image.Dispose();
            job.Image = null;
        }

        ImageTowerOutput output;
        long start = Stopwatch.GetTimestamp();
        try
        {
            output = _tower.Run(pixels, views);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Inference failed for a batch of {Images} images ({Views} views).", batch.Count, views);
            foreach (BatchMember member in members) member.Job.Completion.TrySetException(ex);
            return;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(pixels);
        }

        Statistics.AddBatch(views, Stopwatch.GetTimestamp() - start);
        EncoderMetrics.Batch(views);
        await _inferred.Writer.WriteAsync(new InferredBatch(members, output)).ConfigureAwait(false);
    }

    private async Task AggregateLoopAsync()
    {
        await foreach (InferredBatch batch in _inferred.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            using ImageTowerOutput output = batch.Output;
            foreach (BatchMember member in batch.Members)
            {
                if (member.Job.IsFinished) continue;
                long start = Stopwatch.GetTimestamp();
                try
                {
                    ImageRepresentation representation = BuildRepresentation(member, output);
                    Statistics.AddEncoded(Stopwatch.GetTimestamp() - start);
                    EncoderMetrics.Encoded();
                    member.Job.Completion.TrySetResult(representation);
                }
                catch (Exception ex)
                {
                    _logger.LogError(ex, "Aggregation failed for image {ImageId}.", member.Job.Source.ImageId);
                    member.Job.Completion.TrySetException(ex);
                }
            }
        }
    }

    private ImageRepresentation BuildRepresentation(BatchMember member, ImageTowerOutput output)
    {
        int dimension = output.Dimension;
        int patchesPerView = output.PatchesPerView;
        WholeImageLayout? layout = member.Layout;
        int wholeViews = layout?.Views ?? 1;
        (int gridWidth, int gridHeight) = layout?.MergedGrid(GridSize) ?? (GridSize, GridSize);
        int wholePatches = gridWidth * gridHeight;
        int patchCount = wholePatches + (member.ViewCount - wholeViews) * patchesPerView;

        // Whole-image grid first (merged from its squares when the image is covered by several), then each tile's patches.
        float[] patches = new float[patchCount * dimension];
        if (layout is null) output.Patches(member.FirstView).CopyTo(patches);
        else layout.Merge(output.Patches(member.FirstView, wholeViews), GridSize, dimension).CopyTo(patches, 0);
        for (int v = wholeViews; v < member.ViewCount; v++)
        {
            output.Patches(member.FirstView + v).CopyTo(patches.AsSpan((wholePatches + (v - wholeViews) * patchesPerView) * dimension));
        }

        // The whole image's global embedding: the mean of its squares' (each normalised first, as CLIP compares directions).
        float[] global = new float[dimension];
        for (int v = 0; v < wholeViews; v++)
        {
            float[] view = output.Global(member.FirstView + v).ToArray();
            VectorMath.Normalize(view);
            System.Numerics.Tensors.TensorPrimitives.Add(global, view, global);
        }

        // Normalised in place (not DenseEmbeddings.Normalized, which copies): the raw norms are kept for outlier checks.
        float[] norms = new float[patchCount];
        VectorMath.NormalizeRows(patches, patchCount, dimension, norms);
        VectorMath.Normalize(global);
        var normalized = new DenseEmbeddings(patches, patchCount, dimension, global, gridWidth, gridHeight, norms);

        var aggregated = _aggregator.Aggregate(member.Job.Source.ImageId, normalized);
        var metadata = new Dictionary<string, string>(member.Job.Source.Metadata ?? new Dictionary<string, string>())
        {
            ["width"] = member.Width.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["height"] = member.Height.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return ImageRepresentation.From(member.Job.Source.ImageId, normalized, aggregated, _options.KeepDensePatches, member.Job.Source.SourceUri, metadata);
    }

    private sealed class EncodeJob(ImageSource source, CancellationToken cancellationToken)
    {
        public ImageSource Source { get; } = source;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public TaskCompletionSource<ImageRepresentation> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Set by the decode stage, handed back to the pool by the batcher.</summary>
        public PreprocessedImage? Image { get; set; }

        public bool IsFinished => Completion.Task.IsCompleted;

        public void Cancel() => Completion.TrySetCanceled(CancellationToken);
    }

    private readonly record struct BatchMember(EncodeJob Job, int FirstView, int ViewCount, int Width, int Height, WholeImageLayout? Layout);

    private sealed record InferredBatch(BatchMember[] Members, ImageTowerOutput Output);
}
