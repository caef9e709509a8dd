using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace ObjectRetrieval.Abstractions;

/// <summary>
/// Which shard holds an image, and the grain key of a shard. An image's shard is a jump consistent
/// hash (Lamping and Veach) of a stable 64-bit hash of its id: the same on every process and
/// run, and growing S moves only the images that must move.
/// </summary>
public static class ShardRouting
{
    public const int MaxShardCount = 4096;

    /// <summary>XxHash64 of the id's UTF-8 bytes (string.GetHashCode is randomised per process).</summary>
    public static ulong StableHash(string imageId)
    {
        ArgumentNullException.ThrowIfNull(imageId);
        int byteCount = Encoding.UTF8.GetByteCount(imageId);
        Span<byte> bytes = byteCount <= 512 ? stackalloc byte[byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(imageId, bytes);
        return XxHash64.HashToUInt64(bytes);
    }

    public static int JumpConsistentHash(ulong key, int buckets)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 1);
        long b = -1, j = 0;
        while (j < buckets)
        {
            b = j;
            key = unchecked(key * 2862933555777941757UL + 1);
            j = (long)((b + 1) * ((double)(1L << 31) / ((key >> 33) + 1)));
        }

        return (int)b;
    }

    public static int ShardOf(string imageId, int shardCount) => JumpConsistentHash(StableHash(imageId), shardCount);

    /// <summary>The shard grain's key: "index/shard-NNN".</summary>
    public static string ShardKey(string indexName, int shard) =>
        string.Create(CultureInfo.InvariantCulture, $"{indexName}/shard-{shard:D3}");

    public static (string IndexName, int Shard) ParseShardKey(string key)
    {
        int slash = key.LastIndexOf("/shard-", StringComparison.Ordinal);
        if (slash <= 0 || !int.TryParse(key.AsSpan(slash + 7), NumberStyles.None, CultureInfo.InvariantCulture, out int shard))
        {
            throw new FormatException($"'{key}' is not a shard key of the form 'index/shard-NNN'.");
        }

        return (key[..slash], shard);
    }
}
