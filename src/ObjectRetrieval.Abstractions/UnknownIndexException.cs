namespace ObjectRetrieval.Abstractions;

/// <summary>
/// A call reached a shard of an index that does not exist: never created, or deleted while the caller still knew it.
/// A type of its own so that callers answer "not found" instead of a server error.
/// </summary>
[GenerateSerializer, Alias("objret.UnknownIndexException")]
public sealed class UnknownIndexException : Exception
{
    public UnknownIndexException()
    {
    }

    public UnknownIndexException(string indexName, string message)
        : base(message) => IndexName = indexName;

    [Id(0)]
    public string IndexName { get; init; } = string.Empty;
}
