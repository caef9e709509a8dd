namespace ObjectRetrieval.Abstractions.Security;

/// <summary>
/// The directories the gateway and the ingest jobs may read, compared after resolving symbolic links in every component of both the
/// root and the asked path: a link under a root that points outside it is outside.
/// </summary>
public sealed class FileRoots(IEnumerable<string> roots)
{
    private const int MaxLinkHops = 40;

    private readonly string[] _roots = roots.Where(r => !string.IsNullOrWhiteSpace(r)).ToArray();

    public bool IsEmpty => _roots.Length == 0;

    /// <summary>The real path of <paramref name="path"/> when it lies in (or is) one of the roots, and that root's real path; null otherwise.</summary>
    public (string Path, string Root)? Resolve(string path)
    {
        if (string.IsNullOrWhiteSpace(path) || path.Contains('\0', StringComparison.Ordinal) || !System.IO.Path.IsPathFullyQualified(path)) return null;
        string real;
        try
        {
            real = RealPath(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }

        foreach (string root in _roots)
        {
            string realRoot;
            try
            {
                realRoot = System.IO.Path.TrimEndingDirectorySeparator(RealPath(root));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                continue;
            }

            if (string.Equals(real, realRoot, StringComparison.Ordinal)
                || real.StartsWith(realRoot + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                return (real, realRoot);
            }
        }

        return null;
    }

    /// <summary>The path with "..", "." and every symbolic link resolved (like realpath(3)); components that do not exist stay as written.</summary>
    public static string RealPath(string path) => RealPath(System.IO.Path.GetFullPath(path), 0);

    private static string RealPath(string full, int hops)
    {
        string root = System.IO.Path.GetPathRoot(full) ?? "/";
        string current = root;
        string[] parts = full[root.Length..].Split(System.IO.Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < parts.Length; i++)
        {
            string next = System.IO.Path.Combine(current, parts[i]);
            string? target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }

            if (++hops > MaxLinkHops) throw new IOException($"Too many symbolic links under '{full}'.");

            // A link's target is relative to the link's directory, and may hold links of its own.
            string targetPath = System.IO.Path.IsPathFullyQualified(target) ? target : System.IO.Path.Combine(current, target);
            current = RealPath(System.IO.Path.GetFullPath(targetPath), hops);
        }

        return current;
    }
}
