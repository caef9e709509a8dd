using Azure.Storage.Blobs;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Gateway;
using ObjectRetrieval.Grains.Storage;
using ObjectRetrieval.Shards.Records;
using ObjectRetrieval.Shards.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ObjectRetrieval.Cluster.Tests;

/// <summary>Shards losing their silo or their whole cluster: each test starts its own cluster, since it stops silos.</summary>
public sealed class PersistenceTests
{
    private static ShardFanOut FanOutFor(IGrainFactory grains) =>
        new(grains, Options.Create(new GatewayOptions { ShardDeadline = TimeSpan.FromSeconds(30) }), TimeProvider.System, NullLogger<ShardFanOut>.Instance);

    private static Task<SearchOutcome> SearchAsync(ShardFanOut fanOut, IndexDefinition index, string query) =>
        fanOut.SearchAsync(index, new ShardQuery(HashingQueryEmbedder.Embed(query), 1000, ScoringMode.Cluster, null, Explain: false));

    /// <summary>Upserts in batches, seals some shards mid-way, upserts more, deletes some: every path through the log and segments.</summary>
    private static async Task<HashSet<string>> WriteHistoryAsync(ShardFanOut fanOut, IndexDefinition index, ImageRepresentation[] images)
    {
        await fanOut.UpsertAsync(index, images[..100].Select(EncodedImage.From).ToArray());
        await fanOut.Shard(index, 0).SealAsync();
        await fanOut.Shard(index, 1).SealAsync();
        await fanOut.UpsertAsync(index, images[100..].Select(EncodedImage.From).ToArray());
        await fanOut.Shard(index, 1).SealAsync();
        string[] deleted = images.Where((_, i) => i % 7 == 0).Select(i => i.ImageId).ToArray();
        await fanOut.DeleteAsync(index, deleted);
        return images.Select(i => i.ImageId).Except(deleted).ToHashSet();
    }

    [Fact]
    public async Task Shards_of_a_stopped_silo_reactivate_elsewhere_with_every_acknowledged_image()
    {
        string directory = Path.Combine(Path.GetTempPath(), "objret-failover-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using TestClusterHandle handle = await TestClusterHandle.StartAsync(3, () => new LocalDirectoryIndexStorage(directory));
            IndexDefinition index = TestData.Definition("failover", shards: 12);
            await handle.Client.GetGrain<IIndexGrain>(index.Name).CreateAsync(index);
            ShardFanOut fanOut = FanOutFor(handle.Client);
            HashSet<string> live = await WriteHistoryAsync(fanOut, index, TestData.Images(200, seed: 11));
            SearchOutcome before = await SearchAsync(fanOut, index, "bicycle");

            FanOutResult<ShardStats> stats = await fanOut.StatsAsync(index);
            Orleans.TestingHost.InProcessSiloHandle victim = handle.Cluster.Silos.Skip(1)
                .First(s => stats.Answers.Any(a => a.Silo.Contains(s.SiloAddress.ToString(), StringComparison.Ordinal)));
            int movedShards = stats.Answers.Count(a => a.Silo.Contains(victim.SiloAddress.ToString(), StringComparison.Ordinal));
            Assert.True(movedShards > 0);

            await handle.Cluster.StopSiloAsync(victim);

            SearchOutcome after = await SearchAsync(fanOut, index, "bicycle");
            Assert.False(after.Partial, string.Join(", ", after.MissingShards));
            Assert.Equal(live.Order(StringComparer.Ordinal), after.Hits.Select(h => h.ImageId).Order(StringComparer.Ordinal));
            Assert.Equal(before.Hits.Select(h => (h.ImageId, h.Score)), after.Hits.Select(h => (h.ImageId, h.Score)));
            FanOutResult<ShardStats> moved = await fanOut.StatsAsync(index);
            Assert.DoesNotContain(moved.Answers, a => a.Silo.Contains(victim.SiloAddress.ToString(), StringComparison.Ordinal));
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_shard_sealed_over_an_older_segment_reactivates_with_identical_results_and_explanations()
    {
        string directory = Path.Combine(Path.GetTempPath(), "objret-reseal-" + Guid.NewGuid().ToString("N"));
        try
        {
            IIndexStorage Storage() => new LocalDirectoryIndexStorage(directory);
            IndexDefinition index = TestData.Definition("resealed", shards: 2);
            ImageRepresentation[] images = TestData.Images(120, seed: 13)
                .Select((image, i) => image with { Metadata = new Dictionary<string, string> { ["etag"] = $"v1-{i}", ["width"] = "640" } })
                .ToArray();

            // Same ids, new vectors and regions, a new source and metadata: the first segment's records of these go stale.
            ImageRepresentation[] replaced = images[..15]
                .Select((image, i) => TestData.Image(image.ImageId, 777_000 + i) with
                {
                    SourceUri = $"file:///replaced/{image.ImageId}.jpg",
                    Metadata = new Dictionary<string, string> { ["etag"] = $"v2-{i}" },
                })
                .ToArray();
            string[] deleted = images[15..30].Select(i => i.ImageId).ToArray();
            Dictionary<string, ImageRepresentation> live = images[30..].Concat(replaced).ToDictionary(i => i.ImageId, StringComparer.Ordinal);
            string[] allIds = images.Select(i => i.ImageId).ToArray();

            List<string> before;
            await using (TestClusterHandle first = await TestClusterHandle.StartAsync(1, Storage))
            {
                await first.Client.GetGrain<IIndexGrain>(index.Name).CreateAsync(index);
                ShardFanOut fanOut = FanOutFor(first.Client);
                await fanOut.UpsertAsync(index, images.Select(EncodedImage.From).ToArray());
                await SealAllAsync(fanOut, index);
                await fanOut.UpsertAsync(index, replaced.Select(EncodedImage.From).ToArray());
                await fanOut.DeleteAsync(index, deleted);

                // The second seal streams the first segment, leaving out the replaced and deleted images.
                await SealAllAsync(fanOut, index);
                before = await DescribeAsync(fanOut, index, allIds);
            }

            await using TestClusterHandle second = await TestClusterHandle.StartAsync(1, Storage);
            ShardFanOut again = FanOutFor(second.Client);
            List<string> after = await DescribeAsync(again, index, allIds);
            Assert.Equal(before, after);

            // Equal and right: every live image once, with the source and region of its newest version.
            SearchOutcome explained = await again.SearchAsync(index, new ShardQuery(HashingQueryEmbedder.Embed("bicycle"), 1000, ScoringMode.Cluster, null, Explain: true));
            Assert.Equal(live.Keys.Order(StringComparer.Ordinal), explained.Hits.Select(h => h.ImageId).Order(StringComparer.Ordinal));
            foreach (ShardHit hit in explained.Hits)
            {
                ImageRepresentation image = live[hit.ImageId];
                Assert.Equal(image.SourceUri, hit.SourceUri);
                if (hit.MatchedCluster is int cluster) Assert.Equal(image.Assignment.Select(a => a == cluster ? (byte)1 : (byte)0), hit.Region!.Mask);
            }

            Assert.Contains(explained.Hits, h => h.Region is not null);
            // Each seal wrote only what changed since the one before: two segments, the second small, and empty logs.
            foreach (ShardStats stats in (await again.StatsAsync(index)).Answers)
            {
                Assert.Equal((2, 0), (stats.Segments, stats.LogRecords));
            }
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_byte_flipped_in_the_middle_of_a_shard_log_refuses_the_shard_with_file_and_offset_in_its_stats_and_keeps_the_file()
    {
        string directory = Path.Combine(Path.GetTempPath(), "objret-flip-" + Guid.NewGuid().ToString("N"));
        try
        {
            IIndexStorage Storage() => new LocalDirectoryIndexStorage(directory);
            IndexDefinition index = TestData.Definition("flipped", shards: 1);
            await using (TestClusterHandle first = await TestClusterHandle.StartAsync(1, Storage))
            {
                await first.Client.GetGrain<IIndexGrain>(index.Name).CreateAsync(index);
                ShardFanOut fanOut = FanOutFor(first.Client);
                ImageRepresentation[] images = TestData.Images(60, seed: 21);
                for (int batch = 0; batch < 6; batch++) await fanOut.UpsertAsync(index, images[(batch * 10)..((batch + 1) * 10)].Select(EncodedImage.From).ToArray());
            }

            string log = Directory.EnumerateFiles(Path.Combine(directory, ShardRouting.ShardKey(index.Name, 0)), "wal-*.log").Single(f => new FileInfo(f).Length > 0);
            byte[] bytes = await File.ReadAllBytesAsync(log);
            bytes[bytes.Length / 2] ^= 0x01;
            await File.WriteAllBytesAsync(log, bytes);

            await using TestClusterHandle second = await TestClusterHandle.StartAsync(1, Storage);
            ShardStats stats = await FanOutFor(second.Client).Shard(index, 0).StatsAsync();
            Assert.NotNull(stats.Problem);
            Assert.Contains(log, stats.Problem, StringComparison.Ordinal);
            Assert.Matches(@"corrupt at byte \d+", stats.Problem);
            Assert.Equal(0, stats.Images);
            Assert.Equal(bytes, await File.ReadAllBytesAsync(log));
            Assert.Contains(ShardRouting.ShardKey(index.Name, 0), ObjectRetrieval.Grains.ShardMetrics.Refused.Keys);
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Two_writers_on_one_blob_prefix_the_second_fences_the_first_and_keeps_every_acknowledged_write()
    {
        await using Azurite azurite = await Azurite.StartBlobAsync();
        var storage = new BlobIndexStorage(new BlobContainerClient(azurite.BlobConnectionString, "fence-" + Guid.NewGuid().ToString("N")[..12]));
        IndexDefinition index = TestData.Definition("fenced", shards: 1);
        ObjectRetrieval.Shards.ShardLayout layout = ObjectRetrieval.Grains.IndexShardGrain.LayoutOf(index);
        Task<ObjectRetrieval.Shards.ShardEngine> OpenAsync() => ObjectRetrieval.Shards.ShardEngine.OpenAsync(
            storage.OpenShard("fenced/shard-000"), layout, new ObjectRetrieval.Shards.ShardEngineOptions(), ObjectRetrieval.Shards.NoShardEvents.Instance,
            NullLogger.Instance, TimeProvider.System);
        ObjectRetrieval.Shards.ShardUpsert[] Batch(int from, int count) =>
            TestData.Images(from + count, seed: 31)[from..].Select(i => new ObjectRetrieval.Shards.ShardUpsert(i.ImageId, RepresentationSerializer.Serialize(i))).ToArray();

        ObjectRetrieval.Shards.ShardEngine first = await OpenAsync();
        await first.Writer.UpsertAsync(Batch(0, 10));
        await first.Writer.SealAsync();
        await first.Writer.UpsertAsync(Batch(10, 10));

        ObjectRetrieval.Shards.ShardEngine second = await OpenAsync();
        Assert.Equal(20, second.Reader.ImageCount);
        await Assert.ThrowsAsync<ObjectRetrieval.Shards.ShardFencedException>(() => first.Writer.UpsertAsync(Batch(20, 5)));
        await Assert.ThrowsAsync<ObjectRetrieval.Shards.ShardFencedException>(() => first.Writer.SealAsync());
        await second.Writer.UpsertAsync(Batch(20, 5));
        await second.Writer.SealAsync();

        ObjectRetrieval.Shards.ShardEngine third = await OpenAsync();
        Assert.Equal(25, third.Reader.ImageCount);
        Assert.Equal(3, third.Writer.Epoch);
    }

    private static async Task SealAllAsync(ShardFanOut fanOut, IndexDefinition index)
    {
        for (int shard = 0; shard < index.ShardCount; shard++) await fanOut.Shard(index, shard).SealAsync();
    }

    /// <summary>Everything a client can read back, as text: searches with explanations in every mode, then each image and its metadata.</summary>
    private static async Task<List<string>> DescribeAsync(ShardFanOut fanOut, IndexDefinition index, IReadOnlyList<string> imageIds)
    {
        var lines = new List<string>();
        foreach (string query in new[] { "bicycle", "red umbrella", "two dogs" })
        {
            foreach (ScoringMode mode in new[] { ScoringMode.Cluster, ScoringMode.Global })
            {
                SearchOutcome outcome = await fanOut.SearchAsync(index, new ShardQuery(HashingQueryEmbedder.Embed(query), 50, mode, null, Explain: true));
                Assert.False(outcome.Partial);
                lines.AddRange(outcome.Hits.Select(h => FormattableString.Invariant(
                    $"{query}/{mode}: {h.ImageId} {h.SourceUri} {h.Score:R} {h.MatchedCluster} {(h.Region is { } r ? $"{r.GridWidth}x{r.GridHeight}:{Convert.ToHexString(r.Mask)}" : "-")}")));
            }
        }

        foreach (string id in imageIds)
        {
            IIndexShardGrain shard = fanOut.Shard(index, ShardRouting.ShardOf(id, index.ShardCount));
            StoredImage? image = await shard.GetImageAsync(id);
            IReadOnlyDictionary<string, string>? metadata = (await shard.MetadataAsync([id]))[0];
            lines.Add($"{id}: {image} {(metadata is null ? "-" : string.Join(",", metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)))}");
        }

        return lines;
    }

    [Fact]
    public async Task Shards_in_blob_storage_survive_the_whole_cluster_restarting()
    {
        await using Azurite azurite = await Azurite.StartBlobAsync();
        string container = "shards-" + Guid.NewGuid().ToString("N")[..12];
        IIndexStorage NewStorage() => new BlobIndexStorage(new BlobContainerClient(azurite.BlobConnectionString, container));
        IndexDefinition index = TestData.Definition("blob-index", shards: 4);
        ImageRepresentation[] images = TestData.Images(160, seed: 12);

        HashSet<string> live;
        SearchOutcome before;
        await using (TestClusterHandle first = await TestClusterHandle.StartAsync(2, NewStorage))
        {
            await first.Client.GetGrain<IIndexGrain>(index.Name).CreateAsync(index);
            ShardFanOut fanOut = FanOutFor(first.Client);
            live = await WriteHistoryAsync(fanOut, index, images);
            before = await SearchAsync(fanOut, index, "traffic light");
        }

        await using TestClusterHandle second = await TestClusterHandle.StartAsync(2, NewStorage);
        Assert.Equal(index, await second.Client.GetGrain<IIndexGrain>(index.Name).GetDefinitionAsync());
        ShardFanOut again = FanOutFor(second.Client);
        SearchOutcome after = await SearchAsync(again, index, "traffic light");
        Assert.False(after.Partial);
        Assert.Equal(live.Order(StringComparer.Ordinal), after.Hits.Select(h => h.ImageId).Order(StringComparer.Ordinal));
        Assert.Equal(before.Hits.Select(h => (h.ImageId, h.Score, h.MatchedCluster)), after.Hits.Select(h => (h.ImageId, h.Score, h.MatchedCluster)));

        // Shard 1 sealed twice: two segments, each holding what changed since the one before, and an empty log.
        ShardStats sealedShard = await again.Shard(index, 1).StatsAsync();
        Assert.Equal(2, sealedShard.Segments);
        IShardStore store = NewStorage().OpenShard(ShardRouting.ShardKey(index.Name, 1));
        Assert.Equal(2, (await store.ListAsync()).Count(ShardFileNames.IsSegment));
    }

    /// <summary>
    /// Both stores, directly: a segment larger than a blob block streams back whole; a segment whose writer fails part
    /// way never appears; a segment is created only if absent, so a second writer cannot replace or mix into it.
    /// </summary>
    [Fact]
    public async Task Segments_stream_whole_a_failed_write_leaves_no_segment_and_none_is_created_twice()
    {
        await using Azurite azurite = await Azurite.StartBlobAsync();
        string directory = Path.Combine(Path.GetTempPath(), "objret-segments-" + Guid.NewGuid().ToString("N"));
        byte[][] records = TestData.Images(40, seed: 5).Select(i => ShardRecordFormat.Frame(ShardRecordKind.Upsert, i.ImageId, RepresentationSerializer.Serialize(i))).ToArray();
        int copies = (int)(9_000_000 / records.Sum(r => (long)r.Length)) + 1;
        try
        {
            IIndexStorage[] storages =
            [
                new LocalDirectoryIndexStorage(directory),
                new BlobIndexStorage(new BlobContainerClient(azurite.BlobConnectionString, "segments-" + Guid.NewGuid().ToString("N")[..12])),
            ];
            foreach (IIndexStorage storage in storages)
            {
                IShardStore store = storage.OpenShard("segment-index/shard-000");
                async Task WriteAsync(Stream segment, CancellationToken cancel)
                {
                    for (int copy = 0; copy < copies; copy++)
                    {
                        foreach (byte[] record in records) await segment.WriteAsync(record, cancel);
                    }
                }

                await store.CreateAsync("one.seg", WriteAsync);
                await Assert.ThrowsAsync<InvalidOperationException>(() => store.CreateAsync("two.seg", async (segment, cancel) =>
                {
                    await WriteAsync(segment, cancel);
                    throw new InvalidOperationException("The writer gave up.");
                }));
                await Assert.ThrowsAsync<StorePreconditionException>(() => store.CreateAsync("one.seg", (segment, cancel) => segment.WriteAsync(records[0], cancel).AsTask()));

                Assert.Equal(["one.seg"], (await store.ListAsync()).Where(n => n.EndsWith(".seg", StringComparison.Ordinal)));
                await using Stream data = await store.OpenReadAsync("one.seg");
                using var all = new MemoryStream();
                await data.CopyToAsync(all);
                LogScan scan = LogScan.Of(all.ToArray());
                Assert.Equal((-1L, -1L), (scan.TornTailAt, scan.CorruptAt));
                Assert.Equal(copies * records.Length, scan.Records.Count);
            }
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }
}
