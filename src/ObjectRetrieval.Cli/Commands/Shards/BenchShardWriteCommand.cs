using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Shards;
using ObjectRetrieval.Shards.Storage;

namespace ObjectRetrieval.Cli.Commands.Shards;

/// <summary>
/// <c>objret bench shard-write</c>: synthetic images into one shard in batches with the default seal and compaction
/// settings, as the shard grain drives them (seal when due, compaction in the background). Reports write amplification
/// (bytes written to storage ÷ bytes of records), shard search latency while a compaction runs against while none does,
/// and the time to activate the shard again from its storage.
/// </summary>
internal static class BenchShardWriteCommand
{
    public static Command Create()
    {
        var directory = new Option<DirectoryInfo?>("--dir") { Description = "Local folder for the shard." };
        var blob = new Option<string?>("--blob") { Description = "Blob connection string (e.g. Azurite's) instead of a folder." };
        var container = new Option<string>("--container") { Description = "Blob container.", DefaultValueFactory = _ => "shard-write" };
        var images = new Option<int>("--images") { Description = "Images to write.", DefaultValueFactory = _ => 1_000_000 };
        var batch = new Option<int>("--batch") { Description = "Images per upsert.", DefaultValueFactory = _ => 1_000 };
        var dimension = new Option<int>("--dim") { Description = "Vector dimension.", DefaultValueFactory = _ => 64 };
        var clusters = new Option<int>("--clusters") { Description = "Aggregated vectors per image (K).", DefaultValueFactory = _ => 16 };
        var searches = new Option<int>("--searches-per-batch") { Description = "Shard searches timed after each batch.", DefaultValueFactory = _ => 4 };
        var sealRecords = new Option<int?>("--seal-records") { Description = "Seal after this many log records instead of the default (more seals and compactions in a short run)." };
        var command = new Command("shard-write", "Write amplification, search latency during compaction and activation time of one shard.")
        {
            directory, blob, container, images, batch, dimension, clusters, searches, sealRecords,
        };
        command.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            string? dir = r.GetValue(directory)?.FullName;
            string? connection = r.GetValue(blob);
            if (dir is null && connection is null)
            {
                Console.Error.WriteLine("error: give --dir (local disk) or --blob (a connection string).");
                return 1;
            }

            string shard = "write-" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + "/shard-000";
            await RunAsync(() => ShardBenchData.Store(dir, connection, r.GetValue(container), shard), r.GetValue(images), r.GetValue(batch),
                r.GetValue(dimension), r.GetValue(clusters), r.GetValue(searches), r.GetValue(sealRecords), ct);
            return 0;
        });
        return command;
    }

    private static async Task RunAsync(Func<IShardStore> openStore, int imageCount, int batchSize, int dimension, int clusters, int searchesPerBatch, int? sealRecords, CancellationToken ct)
    {
        ShardLayout layout = ShardBenchData.Layout(dimension);
        var options = new ShardEngineOptions();
        if (sealRecords is int records) options.SealLogRecords = records;
        var store = new CountingShardStore(openStore());
        long recordBytes = 0;
        int seals = 0;
        int compactions = 0;
        var idle = new List<double>();
        var compacting = new List<double>();
        long started = Stopwatch.GetTimestamp();
        ShardEngine engine = await ShardBenchData.OpenAsync(store, layout, options);
        Task<CompactionResult?>? compaction = null;
        for (int from = 0; from < imageCount; from += batchSize)
        {
            ShardUpsert[] upserts = Enumerable.Range(from, Math.Min(batchSize, imageCount - from))
                .Select(i => ShardBenchData.Upsert(ShardBenchData.Image($"img-{i:D9}", 0, dimension, clusters)))
                .ToArray();
            recordBytes += upserts.Sum(u => (long)u.Record.Length);
            await engine.Writer.UpsertAsync(upserts, ct);
            if (engine.Writer.ShouldSeal)
            {
                await engine.Writer.SealAsync(ct);
                seals++;
            }

            if (compaction is not { IsCompleted: false } && engine.Writer.StartCompaction() is { } next)
            {
                compaction = next;
                compactions++;
            }

            for (int q = 0; q < searchesPerBatch; q++)
            {
                bool during = compaction is { IsCompleted: false };
                long t = Stopwatch.GetTimestamp();
                engine.Reader.Search(new ShardSearch(ShardBenchData.Query(q + from, dimension), 10, ScoringMode.Cluster, null));
                (during ? compacting : idle).Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
        }

        if (compaction is not null) await compaction;
        double ingestSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        ShardEngineStats stats = engine.Stats;
        await engine.DisposeAsync();

        long activation = Stopwatch.GetTimestamp();
        await using ShardEngine reopened = await ShardBenchData.OpenAsync(openStore(), layout, options);
        double activationSeconds = Stopwatch.GetElapsedTime(activation).TotalSeconds;

        double fullRewrite = 1 + (seals + 1) / 2.0;
        Console.WriteLine(FormattableString.Invariant($"shard-write: {imageCount:N0} images (D={dimension}, K={clusters}) in batches of {batchSize:N0}, {recordBytes / (double)imageCount:F0} record bytes per image, {ingestSeconds:F1} s; seal every {options.SealLogRecords:N0} records or {options.SealLogBytes:N0} bytes"));
        Console.WriteLine(FormattableString.Invariant($"  storage writes: log {store.AppendBytes:N0} B, segments {store.CreateBytes:N0} B, manifests {store.ReplaceBytes:N0} B; records {recordBytes:N0} B"));
        Console.WriteLine(FormattableString.Invariant($"  write amplification: {(store.AppendBytes + store.CreateBytes + store.ReplaceBytes) / (double)recordBytes:F2} ({seals} seals, {compactions} compactions, {stats.Segments} segments at the end)"));
        Console.WriteLine(FormattableString.Invariant($"  the same seals rewriting the whole shard each time (the design before the shard engine): 1 + (seals + 1) / 2 = {fullRewrite:F1}"));
        Console.WriteLine(FormattableString.Invariant($"  shard search p50 / p99 idle: {Percentile(idle, 0.5):F3} / {Percentile(idle, 0.99):F3} ms ({idle.Count} searches); during compaction: {Percentile(compacting, 0.5):F3} / {Percentile(compacting, 0.99):F3} ms ({compacting.Count} searches)"));
        Console.WriteLine(FormattableString.Invariant($"  activation from storage: {activationSeconds:F2} s for {reopened.Reader.ImageCount:N0} images in {reopened.Stats.Segments} segments"));
    }

    private static double Percentile(List<double> values, double p) => values.Count == 0 ? double.NaN : values.Order().ElementAt((int)Math.Min(values.Count - 1, Math.Floor(p * values.Count)));

    /// <summary>Counts the bytes each kind of write sends to storage.</summary>
    private sealed class CountingShardStore(IShardStore inner) : IShardStore
    {
        private long _append;
        private long _create;
        private long _replace;

        public long AppendBytes => Interlocked.Read(ref _append);

        public long CreateBytes => Interlocked.Read(ref _create);

        public long ReplaceBytes => Interlocked.Read(ref _replace);

        public string Describe(string name) => inner.Describe(name);

        public int MaxAppendBytes => inner.MaxAppendBytes;

        public Task<IAsyncDisposable> AcquireAsync(CancellationToken cancellationToken = default) => inner.AcquireAsync(cancellationToken);

        public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken = default) => inner.ListAsync(cancellationToken);

        public Task<StoredFile?> ReadAsync(string name, CancellationToken cancellationToken = default) => inner.ReadAsync(name, cancellationToken);

        public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default) => inner.OpenReadAsync(name, cancellationToken);

        public Task<string> ReplaceAsync(string name, ReadOnlyMemory<byte> content, string? expectedVersion, CancellationToken cancellationToken = default)
        {
            Interlocked.Add(ref _replace, content.Length);
            return inner.ReplaceAsync(name, content, expectedVersion, cancellationToken);
        }

        public Task CreateAsync(string name, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default) =>
            inner.CreateAsync(name, async (stream, cancel) =>
            {
                long before = stream.Position;
                await write(stream, cancel);
                Interlocked.Add(ref _create, stream.Position - before);
            }, cancellationToken);

        public Task<string> CreateLogAsync(string name, CancellationToken cancellationToken = default) => inner.CreateLogAsync(name, cancellationToken);

        public Task<string> AppendAsync(string name, ReadOnlyMemory<byte> records, long expectedLength, string version, CancellationToken cancellationToken = default)
        {
            Interlocked.Add(ref _append, records.Length);
            return inner.AppendAsync(name, records, expectedLength, version, cancellationToken);
        }

        public Task<string> FenceAsync(string name, CancellationToken cancellationToken = default) => inner.FenceAsync(name, cancellationToken);

        public Task DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);
    }
}
