namespace ObjectRetrieval.Encoding.Models;

/// <summary>
/// A model package that cannot be used. <see cref="Field"/> names the offending model.json field
/// (dotted path such as "image.patchSize") and <see cref="FileName"/> the offending file, when known.
/// </summary>
public sealed class ModelPackageException : Exception
{
    public ModelPackageException(string message, string? field = null, string? fileName = null, Exception? inner = null)
        : base(message, inner)
    {
        Field = field;
        FileName = fileName;
    }

    public string? Field { get; }

    public string? FileName { get; }
}
