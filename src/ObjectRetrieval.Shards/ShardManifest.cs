using System.Text.Json;
using System.Text.Json.Serialization;

namespace ObjectRetrieval.Shards;

/// <summary>One live segment: what it holds and the log it follows from (every log before <see cref="CoversLogsBefore"/> was in memory when it was written).</summary>
public sealed record SegmentEntry(string Name, long Records, long Tombstones, long Bytes, long CoversLogsBefore);

/// <summary>
/// The shard's table of contents, replaced whole and conditionally: the owner's epoch, the live segments oldest
/// first (a newer segment's record of an image wins), and the first log not covered by them. Recovery loads exactly
/// these segments and replays the logs from <see cref="FirstLiveLog"/> on; every other file is garbage of an
/// interrupted seal or compaction.
/// </summary>
public sealed record ShardManifest(long Epoch, long NextSegment, long FirstLiveLog, IReadOnlyList<SegmentEntry> Segments)
{
    public static ShardManifest Empty { get; } = new(0, 0, 0, []);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static ShardManifest Parse(byte[] content, string file)
    {
        try
        {
            ShardManifest? manifest = JsonSerializer.Deserialize<ShardManifest>(content, Json);
            if (manifest is null || manifest.Segments is null || manifest.Epoch < 0 || manifest.FirstLiveLog < 0)
            {
                throw new ShardCorruptException(file, 0, "the manifest is empty or incomplete.");
            }

            return manifest;
        }
        catch (JsonException e)
        {
            throw new ShardCorruptException(file, e.BytePositionInLine ?? 0, $"the manifest does not parse ({e.Message}).");
        }
    }
}
