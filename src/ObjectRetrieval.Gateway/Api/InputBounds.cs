namespace ObjectRetrieval.Gateway.Api;

/// <summary>Bounds on identifiers that callers choose.</summary>
public static class InputBounds
{
    public const int MaxImageIdLength = 256;

    /// <summary>Why <paramref name="imageId"/> cannot be an image id, or null when it can.</summary>
    public static string? ImageIdProblem(string? imageId)
    {
        if (string.IsNullOrWhiteSpace(imageId)) return "The image id is empty.";
        if (imageId.Length > MaxImageIdLength) return $"The image id has {imageId.Length} characters; at most {MaxImageIdLength} are allowed.";
        if (imageId.Any(char.IsControl)) return "The image id holds control characters.";
        if (imageId.Any(char.IsSurrogate) && !IsWellFormed(imageId)) return "The image id is not well-formed Unicode.";
        return null;
    }

    private static bool IsWellFormed(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
            else if (char.IsSurrogate(s[i])) return false;
        }

        return true;
    }
}
