using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Shards.Records;
using ObjectRetrieval.Shards.Storage;

namespace ObjectRetrieval.Shards.Tests;

/// <summary>Crashes are modelled by dropping an engine without disposing it: the in-memory store keeps what was written.</summary>
public sealed class DurabilityTests
{
    private static string OnlyLog(InMemoryShardStore store) => Assert.Single(store.Names, n => n.StartsWith("wal-", StringComparison.Ordinal) && store.Content(n).Length > 0);

    [Fact]
    public async Task Upserts_and_deletes_survive_a_crash_from_the_log_and_from_segments_with_identical_results()
    {
        var store = new InMemoryShardStore();
        ShardEngine first = await Shard.OpenAsync(store);
        await first.Writer.UpsertAsync(Shard.Batch(0, 50));
        await first.Writer.SealAsync();
        await first.Writer.UpsertAsync(Shard.Batch(40, 30, seed: 1));
        await first.Writer.DeleteAsync(["img-00003", "img-00045", "img-00065", "missing"]);
        List<string> before = Shard.Describe(first);

        ShardEngine second = await Shard.OpenAsync(store);
        Assert.Equal(before, Shard.Describe(second));
        Assert.Equal(67, second.Reader.ImageCount);
        Assert.Null(second.Reader.Find("img-00003"));
        Assert.Equal(2, second.Stats.Epoch);
    }

    [Fact]
    public async Task Each_seal_writes_only_what_changed_since_the_previous_one_with_tombstones_for_deletes()
    {
        var store = new InMemoryShardStore();
        ShardEngine engine = await Shard.OpenAsync(store);
        await engine.Writer.UpsertAsync(Shard.Batch(0, 100));
        SealResult firstSeal = (await engine.Writer.SealAsync())!;
        await engine.Writer.UpsertAsync(Shard.Batch(100, 5));
        await engine.Writer.DeleteAsync(["img-00000", "img-00001"]);
        SealResult secondSeal = (await engine.Writer.SealAsync())!;

        Assert.Equal(100, firstSeal.Records);
        Assert.Equal(7, secondSeal.Records);
        Assert.True(secondSeal.Bytes * 10 < firstSeal.Bytes, $"{secondSeal.Bytes} vs {firstSeal.Bytes}");
        Assert.Null(await engine.Writer.SealAsync());
        ShardManifest manifest = engine.Writer.Manifest;
        Assert.Equal([firstSeal.Segment, secondSeal.Segment], manifest.Segments.Select(s => s.Name));
        Assert.Equal((5L, 2L), (manifest.Segments[1].Records, manifest.Segments[1].Tombstones));

        // Covered logs are gone; the reopened shard is the same.
        Assert.Equal([ShardFileNames.Log(manifest.FirstLiveLog)], store.Names.Where(n => n.StartsWith("wal-", StringComparison.Ordinal)));
        ShardEngine reopened = await Shard.OpenAsync(store);
        Assert.Equal(Shard.Describe(engine), Shard.Describe(reopened));
        Assert.Equal(103, reopened.Reader.ImageCount);
    }

    public static TheoryData<string, Func<ImageRepresentation, ShardUpsert>, string> BadImages => new()
    {
        { "NaN in a centroid", i => Shard.Upsert(i with { Centroids = [float.NaN, .. i.Centroids[1..]] }), "centroid 0 holds a NaN" },
        { "infinity in the global vector", i => Shard.Upsert(i with { Global = [float.PositiveInfinity, .. i.Global[1..]] }), "global vector holds a NaN or infinite" },
        { "empty id", i => new ShardUpsert(string.Empty, RepresentationSerializer.Serialize(i)), "empty id" },
        { "wrong dimension", i => Shard.Upsert(Shard.Image(i.ImageId, 1) with { Dimension = 8, Global = new float[8], Centroids = new float[8 * Shard.Clusters] }), "dimension 8" },
        { "id that is not the record's", i => new ShardUpsert("someone-else", RepresentationSerializer.Serialize(i)), "holds image" },
        { "record that does not parse", i => new ShardUpsert(i.ImageId, [1, 2, 3]), "does not parse" },
        { "patch assigned to a missing cluster", i => Shard.Upsert(i with { Assignment = [9, .. i.Assignment[1..]] }), "cluster 9" },
    };

    [Theory]
    [MemberData(nameof(BadImages))]
    public async Task A_batch_with_one_bad_image_is_refused_whole_before_anything_is_logged(string why, Func<ImageRepresentation, ShardUpsert> spoil, string message)
    {
        var store = new InMemoryShardStore();
        ShardEngine engine = await Shard.OpenAsync(store);
        ShardUpsert[] batch = [.. Shard.Batch(0, 3), spoil(Shard.Image("img-bad", 7)), .. Shard.Batch(3, 3)];
        long written = store.BytesWritten;

        ShardValidationException e = await Assert.ThrowsAsync<ShardValidationException>(() => engine.Writer.UpsertAsync(batch));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.Equal(written, store.BytesWritten);
        Assert.Equal(0, engine.Reader.ImageCount);
        Assert.False(string.IsNullOrEmpty(why));
    }

    [Fact]
    public async Task A_record_that_fails_on_replay_is_quarantined_with_its_reason_and_the_shard_starts_without_it()
    {
        var store = new InMemoryShardStore();
        var events = new CountingEvents();
        ShardEngine first = await Shard.OpenAsync(store);
        await first.Writer.UpsertAsync(Shard.Batch(0, 3));

        // A record that an older build let through: a NaN centroid, appended behind the engine's back.
        string log = OnlyLog(store);
        ImageRepresentation poisoned = Shard.Image("img-poisoned", 9) with { Centroids = [float.NaN, .. Shard.Image("x", 9).Centroids[1..]] };
        using (var bad = new MemoryStream())
        {
            ShardRecordFormat.Write(bad, ShardRecordKind.Upsert, poisoned.ImageId, RepresentationSerializer.Serialize(poisoned));
            store.Overwrite(log, [.. store.Content(log), .. bad.ToArray()]);
        }

        await AppendBehindAsync(store, log, Shard.Batch(3, 2));

        ShardEngine second = await Shard.OpenAsync(store, events: events);
        Assert.Equal(5, second.Reader.ImageCount);
        Assert.Null(second.Reader.Find("img-poisoned"));
        Assert.Equal(1, second.Stats.QuarantinedRecords);
        Assert.Equal(1, events.Quarantined);
        string quarantine = Assert.Single(store.Names, n => n.StartsWith("quarantine-", StringComparison.Ordinal));
        string line = System.Text.Encoding.UTF8.GetString(store.Content(quarantine));
        Assert.Contains("img-poisoned", line, StringComparison.Ordinal);
        Assert.Contains("centroid 0 holds a NaN", line, StringComparison.Ordinal);
        Assert.Contains(log, line, StringComparison.Ordinal);

        // The shard works on: it seals, and the poisoned record stays only in the quarantine file.
        await second.Writer.SealAsync();
        ShardEngine third = await Shard.OpenAsync(store);
        Assert.Equal(5, third.Reader.ImageCount);
        Assert.Equal(0, third.Stats.QuarantinedRecords);
    }

    [Fact]
    public async Task One_byte_flipped_in_the_middle_of_a_log_refuses_the_shard_naming_file_and_offset_and_keeps_the_file()
    {
        var store = new InMemoryShardStore();
        var events = new CountingEvents();
        ShardEngine first = await Shard.OpenAsync(store);
        for (int batch = 0; batch < 9; batch++) await first.Writer.UpsertAsync(Shard.Batch(batch * 10, 10));
        string log = OnlyLog(store);
        byte[] bytes = store.Content(log);
        int middle = bytes.Length / 3;
        bytes[middle] ^= 0x20;
        store.Overwrite(log, bytes);
        LogScan scan = LogScan.Of(bytes);

        ShardCorruptException e = await Assert.ThrowsAsync<ShardCorruptException>(() => Shard.OpenAsync(store, events: events));

        Assert.Equal(store.Describe(log), e.File);
        Assert.Equal(scan.CorruptAt, e.Offset);
        Assert.InRange(e.Offset, middle - 10_000, middle);
        Assert.Contains(log, e.Message, StringComparison.Ordinal);
        Assert.Contains($"byte {e.Offset}", e.Message, StringComparison.Ordinal);
        Assert.Equal(bytes, store.Content(log));
        Assert.Equal(1, events.Corruptions);
    }

    [Fact]
    public async Task A_log_cut_at_every_byte_offset_of_its_last_record_reopens_with_every_whole_record()
    {
        var original = new InMemoryShardStore();
        ShardEngine first = await Shard.OpenAsync(original);
        await first.Writer.UpsertAsync(Shard.Batch(0, 4));
        await first.Writer.UpsertAsync(Shard.Batch(4, 1));
        string log = OnlyLog(original);
        byte[] bytes = original.Content(log);
        int lastStart = (int)LogScan.Of(bytes).Records[^1].Offset;

        for (int cut = lastStart; cut <= bytes.Length; cut++)
        {
            var store = new InMemoryShardStore();
            store.Overwrite(ShardFileNames.Manifest, original.Content(ShardFileNames.Manifest));
            store.Overwrite(log, bytes[..cut]);
            ShardEngine reopened = await Shard.OpenAsync(store);
            Assert.Equal(cut == bytes.Length ? 5 : 4, reopened.Reader.ImageCount);

            // The cut log keeps its tail as evidence; appends go to a new log, and the next seal covers both.
            await reopened.Writer.UpsertAsync(Shard.Batch(10, 1));
            await reopened.Writer.SealAsync();
            Assert.Equal(cut == bytes.Length ? 6 : 5, (await Shard.OpenAsync(store)).Reader.ImageCount);
        }
    }

    [Fact]
    public async Task After_a_torn_append_nothing_more_is_acknowledged_behind_the_partial_bytes()
    {
        var store = new InMemoryShardStore();
        ShardEngine engine = await Shard.OpenAsync(store);
        await engine.Writer.UpsertAsync(Shard.Batch(0, 5));
        store.Faults = (operation, _) => operation == StoreOperation.Append ? StoreFault.TornAppend : StoreFault.None;
        await Assert.ThrowsAsync<IOException>(() => engine.Writer.UpsertAsync(Shard.Batch(5, 5)));
        store.Faults = null;
        await engine.Writer.UpsertAsync(Shard.Batch(10, 5));
        await engine.Writer.DeleteAsync(["img-00000"]);

        // The partial bytes end their log (a true tail); the acknowledged writes after them are in a fresh log.
        string[] logs = store.Names.Where(n => n.StartsWith("wal-", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, logs.Length);
        Assert.True(LogScan.Of(store.Content(logs[0])).TornTailAt > 0);
        ShardEngine reopened = await Shard.OpenAsync(store);
        foreach (int acknowledged in Enumerable.Range(1, 4).Concat(Enumerable.Range(10, 5))) Assert.NotNull(reopened.Reader.Find($"img-{acknowledged:D5}"));
        Assert.Null(reopened.Reader.Find("img-00000"));

        // Of the refused batch, the whole records before the tear may come back (upserts are idempotent), never more.
        Assert.InRange(reopened.Reader.ImageCount, 9, 9 + 4);
    }

    [Fact]
    public async Task Batches_larger_than_one_append_are_split_on_record_boundaries_each_conditional_on_position()
    {
        var store = new InMemoryShardStore { MaxAppendBytes = 3_000 };
        var appends = new List<string>();
        store.BeforeCall = (operation, name) =>
        {
            if (operation == StoreOperation.Append) appends.Add(name);
            return Task.CompletedTask;
        };
        ShardEngine engine = await Shard.OpenAsync(store);
        await engine.Writer.UpsertAsync(Shard.Batch(0, 20));
        Assert.True(appends.Count > 1);

        // A crash after the first piece leaves whole records only: nothing to trim.
        LogScan scan = LogScan.Of(store.Content(OnlyLog(store)));
        Assert.Equal((20, -1L), (scan.Records.Count, scan.TornTailAt));
        Assert.Equal(20, (await Shard.OpenAsync(store)).Reader.ImageCount);
    }

    [Fact]
    public async Task A_seal_whose_manifest_commit_landed_but_whose_answer_was_lost_loses_no_write_after_a_crash()
    {
        var store = new InMemoryShardStore();
        ShardEngine engine = await Shard.OpenAsync(store);
        await engine.Writer.UpsertAsync(Shard.Batch(0, 10));
        store.Faults = (operation, name) => operation == StoreOperation.Replace && name == ShardFileNames.Manifest ? StoreFault.FailAfter : StoreFault.None;
        store.BeforeCall = null;

        // The engine reads the manifest back and finds its own commit: the seal stands.
        await engine.Writer.SealAsync();
        store.Faults = null;
        await engine.Writer.UpsertAsync(Shard.Batch(10, 10));
        await engine.Writer.DeleteAsync(["img-00002"]);

        ShardEngine reopened = await Shard.OpenAsync(store);
        Assert.Equal(19, reopened.Reader.ImageCount);
        Assert.Equal(Shard.Describe(engine), Shard.Describe(reopened));
    }

    private static async Task<(InMemoryShardStore Store, ShardEngine Engine)> SealWhoseCommitCannotBeCheckedAsync()
    {
        var store = new InMemoryShardStore();
        ShardEngine engine = await Shard.OpenAsync(store);
        await engine.Writer.UpsertAsync(Shard.Batch(0, 10));
        store.Faults = (operation, name) => name != ShardFileNames.Manifest ? StoreFault.None
            : operation == StoreOperation.Replace ? StoreFault.FailAfter
            : operation == StoreOperation.Read ? StoreFault.FailBefore
            : StoreFault.None;
        await Assert.ThrowsAsync<IOException>(() => engine.Writer.SealAsync());
        store.Faults = null;
        await engine.Writer.UpsertAsync(Shard.Batch(10, 5));
        return (store, engine);
    }

    [Fact]
    public async Task A_crash_after_a_seal_whose_commit_landed_unseen_loses_no_write()
    {
        (InMemoryShardStore store, _) = await SealWhoseCommitCannotBeCheckedAsync();
        ShardEngine afterCrash = await Shard.OpenAsync(store);
        Assert.Equal(15, afterCrash.Reader.ImageCount);
        Assert.Single(afterCrash.Writer.Manifest.Segments);
    }

    [Fact]
    public async Task A_writer_whose_commit_landed_unseen_adopts_it_at_the_next_seal_and_loses_nothing()
    {
        (InMemoryShardStore store, ShardEngine engine) = await SealWhoseCommitCannotBeCheckedAsync();
        await engine.Writer.SealAsync();
        Assert.Equal(2, engine.Writer.Manifest.Segments.Count);
        ShardEngine reopened = await Shard.OpenAsync(store);
        Assert.Equal(15, reopened.Reader.ImageCount);
        Assert.Equal(Shard.Describe(engine), Shard.Describe(reopened));
    }

    [Fact]
    public async Task A_crash_between_writing_a_segment_and_committing_it_leaves_garbage_that_recovery_removes()
    {
        var store = new InMemoryShardStore();
        ShardEngine engine = await Shard.OpenAsync(store);
        await engine.Writer.UpsertAsync(Shard.Batch(0, 10));
        store.Faults = (operation, name) => operation == StoreOperation.Replace && name == ShardFileNames.Manifest ? StoreFault.FailBefore : StoreFault.None;
        await Assert.ThrowsAsync<IOException>(() => engine.Writer.SealAsync());
        store.Faults = null;
        Assert.Contains(store.Names, ShardFileNames.IsSegment);

        ShardEngine reopened = await Shard.OpenAsync(store);
        Assert.Equal(10, reopened.Reader.ImageCount);
        Assert.DoesNotContain(store.Names, ShardFileNames.IsSegment);
        Assert.Empty(reopened.Writer.Manifest.Segments);
    }

    [Fact]
    public async Task A_manifest_that_does_not_parse_refuses_the_shard_and_is_kept()
    {
        var store = new InMemoryShardStore();
        store.Overwrite(ShardFileNames.Manifest, "{\"epoch\": 3, \"segm"u8.ToArray());
        ShardCorruptException e = await Assert.ThrowsAsync<ShardCorruptException>(() => Shard.OpenAsync(store));
        Assert.Contains(ShardFileNames.Manifest, e.File, StringComparison.Ordinal);
        Assert.Equal("{\"epoch\": 3, \"segm"u8.ToArray(), store.Content(ShardFileNames.Manifest));
    }

    [Fact]
    public async Task A_damaged_segment_refuses_the_shard_with_its_name_and_offset()
    {
        var store = new InMemoryShardStore();
        ShardEngine engine = await Shard.OpenAsync(store);
        await engine.Writer.UpsertAsync(Shard.Batch(0, 10));
        SealResult seal = (await engine.Writer.SealAsync())!;
        byte[] segment = store.Content(seal.Segment);
        segment[segment.Length / 2] ^= 0x08;
        store.Overwrite(seal.Segment, segment);

        ShardCorruptException e = await Assert.ThrowsAsync<ShardCorruptException>(() => Shard.OpenAsync(store));
        Assert.Equal(store.Describe(seal.Segment), e.File);
        Assert.InRange(e.Offset, 0, segment.Length / 2);
    }

    [Fact]
    public async Task Seal_duration_is_measured_on_the_injected_clock()
    {
        var time = new ManualTime();
        var store = new InMemoryShardStore();
        var events = new CountingEvents();
        ShardEngine engine = await Shard.OpenAsync(store, time: time, events: events);
        await engine.Writer.UpsertAsync(Shard.Batch(0, 3));
        store.BeforeCall = (operation, _) =>
        {
            if (operation == StoreOperation.Create) time.Advance(TimeSpan.FromSeconds(7));
            return Task.CompletedTask;
        };
        SealResult seal = (await engine.Writer.SealAsync())!;
        Assert.Equal(TimeSpan.FromSeconds(7), seal.Duration);
        Assert.Equal(TimeSpan.FromSeconds(7), events.LastSeal);
    }

    [Fact]
    public async Task The_seal_thresholds_count_records_and_bytes_since_the_last_seal()
    {
        var store = new InMemoryShardStore();
        ShardEngine engine = await Shard.OpenAsync(store, new ShardEngineOptions { SealLogRecords = 10, SealLogBytes = long.MaxValue });
        await engine.Writer.UpsertAsync(Shard.Batch(0, 9));
        Assert.False(engine.Writer.ShouldSeal);
        await engine.Writer.UpsertAsync(Shard.Batch(9, 1));
        Assert.True(engine.Writer.ShouldSeal);
        await engine.Writer.SealAsync();
        Assert.False(engine.Writer.ShouldSeal);
    }

    /// <summary>Appends upserts to a log the way the engine would, for records written outside it.</summary>
    private static Task AppendBehindAsync(InMemoryShardStore store, string log, ShardUpsert[] batch)
    {
        using var frames = new MemoryStream();
        foreach (ShardUpsert upsert in batch) ShardRecordFormat.Write(frames, ShardRecordKind.Upsert, upsert.ImageId, upsert.Record);
        store.Overwrite(log, [.. store.Content(log), .. frames.ToArray()]);
        return Task.CompletedTask;
    }
}

internal sealed class CountingEvents : IShardEvents
{
    public long Quarantined { get; private set; }

    public int Corruptions { get; private set; }

    public int Fencings { get; private set; }

    public TimeSpan? LastSeal { get; private set; }

    public int Compactions { get; private set; }

    public void LogAppended(long bytes)
    {
    }

    public void Sealed(TimeSpan duration, long bytes, long records) => LastSeal = duration;

    public void Compacted(TimeSpan duration, long bytesRead, long bytesWritten, int segmentsMerged) => Compactions++;

    public void Recovered(TimeSpan duration, long images, long logRecords)
    {
    }

    void IShardEvents.Quarantined(long records) => Quarantined += records;

    public void Fenced() => Fencings++;

    public void CorruptionFound() => Corruptions++;
}
