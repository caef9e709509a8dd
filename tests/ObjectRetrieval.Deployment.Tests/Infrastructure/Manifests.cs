using YamlDotNet.RepresentationModel;

namespace ObjectRetrieval.Deployment.Tests.Infrastructure;

/// <summary>One Kubernetes object of a plain manifest file.</summary>
public sealed record KubeObject(string File, string Kind, string Name, YamlMappingNode Node)
{
    public override string ToString() => $"{Kind}/{Name} ({File})";
}

/// <summary>Loads multi-document Kubernetes YAML with YamlDotNet and navigates it.</summary>
public static class Manifests
{
    public static IReadOnlyList<KubeObject> LoadDirectory(string directory) =>
        Directory.GetFiles(directory, "*.yaml").Order(StringComparer.Ordinal).SelectMany(LoadFile).ToList();

    public static IEnumerable<KubeObject> LoadFile(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            stream.Load(reader);
        }

        foreach (var document in stream.Documents)
        {
            if (document.RootNode is YamlMappingNode root)
            {
                yield return new KubeObject(Path.GetFileName(path), Scalar(root, "kind")!, Scalar(root, "metadata", "name")!, root);
            }
        }
    }

    public static YamlNode? Get(YamlNode? node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out node))
            {
                return null;
            }
        }

        return node;
    }

    public static string? Scalar(YamlNode? node, params string[] path) => (Get(node, path) as YamlScalarNode)?.Value;

    public static IReadOnlyList<YamlMappingNode> Items(YamlNode? node, params string[] path) =>
        (Get(node, path) as YamlSequenceNode)?.Children.OfType<YamlMappingNode>().ToList() ?? [];

    public static IReadOnlyDictionary<string, string> StringMap(YamlNode? node, params string[] path) =>
        (Get(node, path) as YamlMappingNode)?.Children.ToDictionary(
            kv => ((YamlScalarNode)kv.Key).Value!,
            kv => (kv.Value as YamlScalarNode)?.Value ?? string.Empty,
            StringComparer.Ordinal) ?? new Dictionary<string, string>();
}
