using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace ObjectRetrieval.Deployment.Tests.Infrastructure;

/// <summary>A key of values.yaml: its dotted path, whether a comment sits directly above it, and whether it holds a mapping.</summary>
public sealed record ValuesKey(string Path, bool HasComment, bool IsMapping);

/// <summary>
/// Reads the keys of values.yaml with YamlDotNet's parser; a key is commented when the line right above it is a
/// comment (read from the text: YamlDotNet's comment events fail on comments after flow collections such as "{}").
/// </summary>
public static class ValuesFile
{
    public static IReadOnlyDictionary<string, ValuesKey> Load(string path)
    {
        var lines = File.ReadAllLines(path);
        using var reader = new StringReader(string.Join('\n', lines));
        var parser = new Parser(new Scanner(reader, skipComments: true));
        var keys = new Dictionary<string, ValuesKey>(StringComparer.Ordinal);
        var stack = new Stack<Frame>();

        while (parser.MoveNext())
        {
            var current = parser.Current!;
            switch (current)
            {
                case MappingStart:
                    EnterValue(stack, keys, isMapping: true);
                    stack.Push(new Frame(IsMapping: true));
                    break;
                case SequenceStart:
                    EnterValue(stack, keys, isMapping: false);
                    stack.Push(new Frame(IsMapping: false));
                    break;
                case MappingEnd or SequenceEnd:
                    stack.Pop();
                    if (stack.Count > 0 && stack.Peek().IsMapping)
                    {
                        stack.Peek().ExpectKey = true;
                    }

                    break;
                case Scalar scalar when stack.Count > 0 && stack.Peek().IsMapping && stack.Peek().ExpectKey && InsideValuesTree(stack):
                    var parent = ParentPath(stack);
                    var keyPath = parent.Length == 0 ? scalar.Value : $"{parent}.{scalar.Value}";
                    stack.Peek().PendingKey = keyPath;
                    stack.Peek().PendingCommented = scalar.Start.Line >= 2 && lines[scalar.Start.Line - 2].TrimStart().StartsWith('#');
                    stack.Peek().ExpectKey = false;
                    break;
                case Scalar:
                    EnterValue(stack, keys, isMapping: false);
                    break;
            }
        }

        return keys;
    }

    // Keys inside sequences (e.g. tolerations entries) are data, not documented settings.
    private static bool InsideValuesTree(Stack<Frame> stack) => stack.All(f => f.IsMapping);

    private static string ParentPath(Stack<Frame> stack) =>
        stack.Skip(1).FirstOrDefault(f => f.PendingKey is not null)?.PendingKey ?? string.Empty;

    private static void EnterValue(Stack<Frame> stack, Dictionary<string, ValuesKey> keys, bool isMapping)
    {
        if (stack.Count == 0)
        {
            return;
        }

        var frame = stack.Peek();
        if (frame.IsMapping && frame.PendingKey is not null && !frame.ExpectKey && InsideValuesTree(stack))
        {
            keys[frame.PendingKey] = new ValuesKey(frame.PendingKey, frame.PendingCommented, isMapping);
        }

        if (frame.IsMapping)
        {
            frame.ExpectKey = true;
        }
    }

    private sealed class Frame(bool IsMapping)
    {
        public bool IsMapping { get; } = IsMapping;

        public bool ExpectKey { get; set; } = true;

        public string? PendingKey { get; set; }

        public bool PendingCommented { get; set; }
    }
}
