using Microsoft.Extensions.Options;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Gateway.Security;

namespace ObjectRetrieval.Gateway;

/// <summary>
/// An LRU cache of query vectors in front of the text tower, keyed by model, template set and query text; vectors
/// are shared read-only. Misses run the tower under bounded concurrency: one that cannot start within the queue
/// timeout is refused (503), not queued forever.
/// </summary>
public sealed class QueryEmbeddingCache(IQueryEmbedder embedder, IOptions<GatewayOptions> options)
{
    private readonly Dictionary<string, LinkedListNode<(string Query, float[] Vector)>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Query, float[] Vector)> _recency = new();
    private readonly Lock _gate = new();
    private readonly int _capacity = Math.Max(1, options.Value.QueryCacheEntries);
    private readonly SemaphoreSlim _tower = new(Math.Max(1, options.Value.TextTowerConcurrency));
    private readonly TimeSpan _towerQueueTimeout = options.Value.TextTowerQueueTimeout;

    public long Hits { get; private set; }

    public long Misses { get; private set; }

    public IQueryEmbedder Embedder => embedder;

    public async ValueTask<float[]> EmbedAsync(string query, CancellationToken cancellationToken)
    {
        string text = query.Trim();
        // A vector depends on the model and the template ensemble as much as on the text.
        string key = $"{embedder.Model}\u001f{embedder.TemplateSet}\u001f{text}";
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                Hits++;
                SearchMetrics.RecordQueryCacheLookup(hit: true);
                return node.Value.Vector;
            }

            Misses++;
        }

        SearchMetrics.RecordQueryCacheLookup(hit: false);

        if (!await _tower.WaitAsync(_towerQueueTimeout, cancellationToken).ConfigureAwait(false))
        {
            throw new AdmissionRejectedException("text tower", _towerQueueTimeout);
        }

        float[] vector;
        try
        {
            vector = await embedder.EmbedAsync(text, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _tower.Release();
        }

        lock (_gate)
        {
            if (!_entries.ContainsKey(key))
            {
                _entries[key] = _recency.AddFirst((key, vector));
                if (_entries.Count > _capacity)
                {
                    _entries.Remove(_recency.Last!.Value.Query);
                    _recency.RemoveLast();
                }
            }
        }

        return vector;
    }
}
