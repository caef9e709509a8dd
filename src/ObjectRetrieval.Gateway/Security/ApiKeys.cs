using System.Security.Cryptography;
using System.Text;

namespace ObjectRetrieval.Gateway.Security;

/// <summary>The roles a key carries. Each includes the ones before it: a writer may read, an admin may write.</summary>
public static class ApiRoles
{
    /// <summary>Search and image content.</summary>
    public const string Reader = "reader";

    /// <summary>Add and delete images, start and control ingest jobs from allowed sources.</summary>
    public const string Writer = "writer";

    /// <summary>Create and delete indexes.</summary>
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Reader, Writer, Admin];

    /// <summary>The roles a key of <paramref name="role"/> holds: itself and every weaker one.</summary>
    public static IReadOnlyList<string> Implied(string role)
    {
        int rank = Rank(role);
        return rank < 0 ? [] : All.Take(rank + 1).ToArray();
    }

    public static int Rank(string role)
    {
        for (int i = 0; i < All.Count; i++)
        {
            if (string.Equals(All[i], role, StringComparison.OrdinalIgnoreCase)) return i;
        }

        return -1;
    }
}

/// <summary>One accepted API key: its name (for logs and rate-limit partitions), its role and the SHA-256 of the key (hex).</summary>
public sealed class ApiKeyEntry
{
    public string Name { get; set; } = string.Empty;

    public string Role { get; set; } = ApiRoles.Reader;

    /// <summary>Lower- or upper-case hex SHA-256 of the key's UTF-8 bytes; the key itself is never stored.</summary>
    public string Sha256 { get; set; } = string.Empty;
}

/// <summary>Making and hashing keys. A key is "objret_" and 32 random bytes in base64url: 256 bits, so one unsalted SHA-256 suffices.</summary>
public static class ApiKey
{
    public const string Prefix = "objret_";

    /// <summary>Longest key looked at; anything longer is refused before hashing.</summary>
    public const int MaxLength = 256;

    public static string New() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static string HashHex(string key) => Convert.ToHexStringLower(Hash(key));
}

/// <summary>The accepted keys, hashed; looked up in constant time per entry so a near miss takes as long as a far one.</summary>
public sealed class ApiKeyStore
{
    private readonly (ApiKeyEntry Entry, byte[] Hash)[] _keys;

    public ApiKeyStore(IEnumerable<ApiKeyEntry> entries)
    {
        _keys = entries.Select(e => (e, Convert.FromHexString(e.Sha256.Trim()))).ToArray();
    }

    public int Count => _keys.Length;

    /// <summary>The entry whose hash matches the key, or null. Every entry is compared, whatever matched first.</summary>
    public ApiKeyEntry? Find(string presented)
    {
        if (presented.Length is 0 or > ApiKey.MaxLength) return null;
        byte[] hash = ApiKey.Hash(presented);
        ApiKeyEntry? found = null;
        foreach ((ApiKeyEntry entry, byte[] stored) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, stored)) found ??= entry;
        }

        return found;
    }

    /// <summary>
    /// Keys from a mounted file (a Kubernetes Secret): one "name role sha256" a line; blank lines and lines starting
    /// with '#' are skipped.
    /// </summary>
    public static IReadOnlyList<ApiKeyEntry> ReadFile(string path)
    {
        var entries = new List<ApiKeyEntry>();
        int number = 0;
        foreach (string raw in File.ReadLines(path))
        {
            number++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            string[] parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 3) throw new InvalidDataException($"{path} line {number}: expected \"name role sha256\", found {parts.Length} fields.");
            entries.Add(new ApiKeyEntry { Name = parts[0], Role = parts[1], Sha256 = parts[2] });
        }

        return entries;
    }
}
