using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Shards;
using ObjectRetrieval.Shards.Storage;

namespace ObjectRetrieval.Cli.Commands.Shards;

/// <summary>
/// <c>objret bench shard-faults</c>: a child process ingests into one shard (upserts, replacements, deletes, seals,
/// compactions) and SIGKILLs itself at a chosen store call — before, during or after an append, a segment write, a
/// manifest commit, a log creation or a segment read — trial after trial. After each kill the parent recovers the
/// shard and checks: every acknowledged write there (at its acknowledged version), deletes gone, nothing but the
/// unacknowledged batch in flight added, no duplicates, and search results identical to a shard built cleanly
/// from the same images.
/// </summary>
internal static class BenchShardFaultsCommand
{
    private const int Dimension = 32;
    private const int Clusters = 4;
    private const int ImagesPerBatch = 10;
    private const int BatchesPerChild = 60;

    // Small thresholds so that every child seals and compacts many times.
    private static readonly ShardEngineOptions Options = new() { SealLogRecords = 45, CompactionFanIn = 3, CompactionMinSegmentBytes = long.MaxValue / 4 };

    private static readonly (string Operation, int MaxCount, string[] When)[] KillPoints =
    [
        ("Append", 40, ["before", "during", "after"]),
        ("Segment", 8, ["before", "during", "after"]),
        ("Manifest", 8, ["before", "after"]),
        ("CreateLog", 8, ["before", "after"]),
        ("OpenRead", 6, ["before", "after"]),
        ("Delete", 6, ["before", "after"]),
    ];

    public static Command Create()
    {
        var directory = new Option<DirectoryInfo?>("--dir") { Description = "Local folder for the shard (local-disk storage)." };
        var blob = new Option<string?>("--blob") { Description = "Blob connection string (e.g. Azurite's) instead of a folder." };
        var container = new Option<string>("--container") { Description = "Blob container.", DefaultValueFactory = _ => "shard-faults" };
        var trials = new Option<int>("--trials") { Description = "Child processes to kill.", DefaultValueFactory = _ => 100 };
        var seed = new Option<int>("--seed") { Description = "Chooses the kill points.", DefaultValueFactory = _ => 1 };
        var child = new Option<bool>("--child") { Description = "Internal: run as the writer that is killed.", Hidden = true };
        var startBatch = new Option<int>("--start-batch") { Hidden = true };
        var kill = new Option<string?>("--kill") { Description = "Internal: operation:count:when.", Hidden = true };
        var command = new Command("shard-faults", "SIGKILL a writer at chosen points of append, seal, manifest update and compaction; check nothing acknowledged is lost.")
        {
            directory, blob, container, trials, seed, child, startBatch, kill,
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

            IShardStore Store() => ShardBenchData.Store(dir, connection, r.GetValue(container), "faults/shard-000");
            if (r.GetValue(child))
            {
                string[] parts = (r.GetValue(kill) ?? "none:0:before").Split(':');
                var point = new KillPoint(parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture), parts[2]);
                await RunChildAsync(new KillingShardStore(Store(), point), r.GetValue(startBatch));
                return 0;
            }

            return await RunTrialsAsync(Store, dir, connection, r.GetValue(container)!, r.GetValue(trials), r.GetValue(seed), ct);
        });
        return command;
    }

    /// <summary>What batch <paramref name="batch"/> does: upserts of new images and of two older ones at a new version, or deletes.</summary>
    private static (ShardUpsert[] Upserts, string[] Deletes) Batch(int batch)
    {
        if (batch % 6 == 5) return ([], [$"img-{batch - 1}-0", $"img-{batch - 3}-1", $"img-{batch - 2}-2"]);
        var upserts = Enumerable.Range(0, ImagesPerBatch).Select(i => $"img-{batch}-{i}")
            .Concat(batch >= 4 ? [$"img-{batch - 2}-0", $"img-{batch - 4}-3"] : [])
            .Select(id => ShardBenchData.Upsert(ShardBenchData.Image(id, batch, Dimension, Clusters)))
            .ToArray();
        return (upserts, []);
    }

    private static async Task RunChildAsync(KillingShardStore store, int startBatch)
    {
        KillingShardStore.Phase = "recovery";
        ShardEngine engine = await ShardBenchData.OpenAsync(store, ShardBenchData.Layout(Dimension), Options);
        for (int batch = startBatch; batch < startBatch + BatchesPerChild; batch++)
        {
            (ShardUpsert[] upserts, string[] deletes) = Batch(batch);
            KillingShardStore.Phase = "append";
            Console.Out.WriteLine($"begin {batch}");
            if (upserts.Length > 0) await engine.Writer.UpsertAsync(upserts);
            if (deletes.Length > 0) await engine.Writer.DeleteAsync(deletes);
            Console.Out.WriteLine($"ack {batch}");
            if (engine.Writer.ShouldSeal)
            {
                KillingShardStore.Phase = "seal";
                await engine.Writer.SealAsync();
                KillingShardStore.Phase = "compaction";
                if (engine.Writer.StartCompaction() is { } compaction) await compaction;
            }
        }

        Console.Out.WriteLine("done");
    }

    private static async Task<int> RunTrialsAsync(Func<IShardStore> store, string? dir, string? connection, string container, int trials, int seed, CancellationToken ct)
    {
        var random = new Random(seed);
        var model = new Dictionary<string, int>(StringComparer.Ordinal);
        var kills = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int nextBatch = 0;
        int killed = 0;
        var failures = new List<string>();
        var recovery = new List<double>();
        for (int trial = 0; trial < trials && failures.Count == 0; trial++)
        {
            (string operation, int maxCount, string[] when) = KillPoints[trial % KillPoints.Length];
            string point = $"{operation}:{random.Next(1, maxCount + 1)}:{when[random.Next(when.Length)]}";
            (int lastBegun, int? inFlight, string? killLine, List<int> acknowledged) = await RunChildProcessAsync(dir, connection, container, nextBatch, point, ct);
            foreach (int batch in acknowledged) Apply(model, batch);
            if (killLine is not null)
            {
                killed++;
                string[] words = killLine.Split(' ');
                string key = $"{words[1]} / {words[2]} {words[3]}";
                kills[key] = kills.GetValueOrDefault(key) + 1;
            }

            long started = Stopwatch.GetTimestamp();
            await using (ShardEngine engine = await ShardBenchData.OpenAsync(store(), ShardBenchData.Layout(Dimension), Options))
            {
                recovery.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
                failures.AddRange(Verify(engine, model, inFlight).Select(f => $"trial {trial} (kill {point}, {killLine ?? "no kill"}): {f}"));
                Adopt(engine, model);
                failures.AddRange((await CompareWithCleanShardAsync(engine, model)).Select(f => $"trial {trial}: {f}"));
            }

            nextBatch = lastBegun + 1;
        }

        Console.WriteLine($"shard-faults on {(connection is null ? "local disk" : "blob storage")}: {trials} trials, {killed} SIGKILLs, {nextBatch} batches, {model.Count} live images at the end");
        foreach ((string where, int count) in kills) Console.WriteLine($"  killed {count,3}× at {where}");
        Console.WriteLine(FormattableString.Invariant($"recovery after a kill: median {Median(recovery):F3} s, max {recovery.DefaultIfEmpty().Max():F3} s"));
        Console.WriteLine($"acknowledged writes lost: {failures.Count(f => f.Contains("lost", StringComparison.Ordinal))}; duplicates: {failures.Count(f => f.Contains("duplicate", StringComparison.Ordinal))}; other failures: {failures.Count(f => !f.Contains("lost", StringComparison.Ordinal) && !f.Contains("duplicate", StringComparison.Ordinal))}");
        foreach (string failure in failures.Take(20)) Console.WriteLine("  FAIL " + failure);
        return failures.Count == 0 ? 0 : 1;
    }

    private static async Task<(int LastBegun, int? InFlight, string? KillLine, List<int> Acknowledged)> RunChildProcessAsync(
        string? dir, string? connection, string container, int startBatch, string point, CancellationToken ct)
    {
        string entry = Environment.GetCommandLineArgs()[0];
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") start.ArgumentList.Add(entry);
        foreach (string argument in new[] { "bench", "shard-faults", "--child", "--start-batch", startBatch.ToString(CultureInfo.InvariantCulture), "--kill", point, "--container", container }) start.ArgumentList.Add(argument);
        if (dir is not null) { start.ArgumentList.Add("--dir"); start.ArgumentList.Add(dir); }
        if (connection is not null) { start.ArgumentList.Add("--blob"); start.ArgumentList.Add(connection); }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the child writer.");
        Task<string> errors = process.StandardError.ReadToEndAsync(ct);
        int lastBegun = startBatch - 1;
        int? inFlight = null;
        string? killLine = null;
        var acknowledged = new List<int>();
        while (await process.StandardOutput.ReadLineAsync(ct) is { } line)
        {
            if (line.StartsWith("begin ", StringComparison.Ordinal)) inFlight = lastBegun = int.Parse(line[6..], CultureInfo.InvariantCulture);
            else if (line.StartsWith("ack ", StringComparison.Ordinal)) { acknowledged.Add(int.Parse(line[4..], CultureInfo.InvariantCulture)); inFlight = null; }
            else if (line.StartsWith("kill ", StringComparison.Ordinal)) killLine = line;
        }

        await process.WaitForExitAsync(ct);
        if (killLine is null && process.ExitCode != 0) throw new InvalidOperationException($"The child writer failed (exit {process.ExitCode}): {await errors}");
        return (lastBegun, inFlight, killLine, acknowledged);
    }

    private static void Apply(Dictionary<string, int> model, int batch)
    {
        (ShardUpsert[] upserts, string[] deletes) = Batch(batch);
        foreach (ShardUpsert upsert in upserts) model[upsert.ImageId] = batch;
        foreach (string id in deletes) model.Remove(id);
    }

    private static int? VersionIn(ShardEngine engine, string id) =>
        engine.Reader.MetadataOf(id) is { } metadata ? int.Parse(metadata[ShardBenchData.VersionKey], CultureInfo.InvariantCulture) : null;

    private static IEnumerable<string> Verify(ShardEngine engine, Dictionary<string, int> model, int? inFlight)
    {
        HashSet<string> touched = inFlight is int batch ? Batch(batch).Upserts.Select(u => u.ImageId).Concat(Batch(batch).Deletes).ToHashSet(StringComparer.Ordinal) : [];
        foreach ((string id, int version) in model)
        {
            int? found = VersionIn(engine, id);
            if (found == version) continue;
            if (touched.Contains(id) && (found is null || found == inFlight)) continue;
            yield return $"acknowledged image {id} v{version} lost (found {(found is null ? "nothing" : "v" + found)})";
        }

        IReadOnlyList<ShardMatch> all = engine.Reader.Search(new ShardSearch(ShardBenchData.Query(0, Dimension), Math.Max(1, engine.Reader.ImageCount + 10), ScoringMode.Global, null));
        if (all.Count != engine.Reader.ImageCount || all.Select(m => m.ImageId).Distinct(StringComparer.Ordinal).Count() != all.Count)
        {
            yield return $"duplicate images: {all.Count} hits, {all.Select(m => m.ImageId).Distinct(StringComparer.Ordinal).Count()} distinct, {engine.Reader.ImageCount} held";
        }

        foreach (ShardMatch match in all)
        {
            if (!model.ContainsKey(match.ImageId) && !touched.Contains(match.ImageId)) yield return $"image {match.ImageId} appeared without being written";
        }
    }

    /// <summary>The recovered shard is the truth from here on (it may hold part of the batch that was in flight).</summary>
    private static void Adopt(ShardEngine engine, Dictionary<string, int> model)
    {
        IReadOnlyList<ShardMatch> all = engine.Reader.Search(new ShardSearch(ShardBenchData.Query(0, Dimension), Math.Max(1, engine.Reader.ImageCount + 10), ScoringMode.Global, null));
        model.Clear();
        foreach (ShardMatch match in all) model[match.ImageId] = VersionIn(engine, match.ImageId)!.Value;
    }

    private static async Task<IEnumerable<string>> CompareWithCleanShardAsync(ShardEngine recovered, Dictionary<string, int> model)
    {
        string directory = Path.Combine(Path.GetTempPath(), "objret-clean-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using ShardEngine clean = await ShardBenchData.OpenAsync(new LocalShardStore(directory), ShardBenchData.Layout(Dimension), Options);
            foreach (ShardUpsert[] chunk in model.Select(kv => ShardBenchData.Upsert(ShardBenchData.Image(kv.Key, kv.Value, Dimension, Clusters))).Chunk(500))
            {
                await clean.Writer.UpsertAsync(chunk);
            }

            var failures = new List<string>();
            foreach (int query in new[] { 1, 2, 3 })
            {
                string Describe(ShardEngine e) => string.Join(",", e.Reader.Search(new ShardSearch(ShardBenchData.Query(query, Dimension), 50, ScoringMode.Cluster, null))
                    .Select(m => FormattableString.Invariant($"{m.ImageId}:{m.Score:R}:{m.MatchedCluster}")));
                if (Describe(recovered) != Describe(clean)) failures.Add($"search {query} differs from a clean shard of the same images");
            }

            return failures;
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    private static double Median(List<double> values) => values.Count == 0 ? 0 : values.Order().ElementAt(values.Count / 2);
}
