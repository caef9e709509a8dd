using System.Text;
using System.Text.Json;

namespace ObjectRetrieval.Demo;

/// <summary>
/// A small CLIP-style byte-level BPE vocabulary: the 256 byte symbols and their "&lt;/w&gt;" word-end forms,
/// merges that make every listed word a single token, and the start/end tokens. Merges are derived by
/// running BPE on each word and adding the merge it still lacks, so each word ends as one token
/// whatever merges the words before it introduced.
/// </summary>
public sealed class DemoVocabulary
{
    public const string StartToken = "<|startoftext|>";
    public const string EndToken = "<|endoftext|>";
    public const string EndOfWord = "</w>";

    /// <summary>Words the demo text tower treats as meaningful fillers (not category names).</summary>
    public static IReadOnlyList<string> FillerWords { get; } =
    [
        "a", "an", "the", "photo", "picture", "image", "of", "thing", "object", "objects", "small", "large", "big", "tiny",
        "some", "with", "in", "on", "and", "there", "is", "this", "that", "it", "one", "two", "few", "color", "colour",
        "colored", "coloured", "toy", "ball", "shape", "region", "patch", "blob", "spot", "bright", "dark",
    ];

    private readonly Dictionary<string, int> _vocabulary = new(StringComparer.Ordinal);
    private readonly List<(string Left, string Right)> _merges = [];
    private readonly Dictionary<(string, string), int> _mergeRanks = [];

    private DemoVocabulary()
    {
    }

    public IReadOnlyDictionary<string, int> Vocabulary => _vocabulary;

    public IReadOnlyList<(string Left, string Right)> Merges => _merges;

    public int Count => _vocabulary.Count;

    /// <summary>Builds the vocabulary for <paramref name="words"/> (lower-case ASCII or any UTF-8 text).</summary>
    public static DemoVocabulary Build(IEnumerable<string> words)
    {
        var vocabulary = new DemoVocabulary();
        string[] byteSymbols = ByteSymbols();
        foreach (string symbol in byteSymbols) vocabulary.AddToken(symbol);
        foreach (string symbol in byteSymbols) vocabulary.AddToken(symbol + EndOfWord);
        foreach (string word in words.Distinct(StringComparer.Ordinal)) vocabulary.AddWord(word, byteSymbols);
        vocabulary.AddToken(StartToken);
        vocabulary.AddToken(EndToken);
        return vocabulary;
    }

    /// <summary>The id of <paramref name="word"/> as one whole-word token.</summary>
    public int WordId(string word) => _vocabulary[SymbolsOf(word, ByteSymbols()).Aggregate(string.Concat)];

    public void Write(string vocabPath, string mergesPath)
    {
        File.WriteAllText(vocabPath, JsonSerializer.Serialize(_vocabulary));
        var merges = new StringBuilder("#version: 0.2\n");
        foreach ((string left, string right) in _merges) merges.Append(left).Append(' ').Append(right).Append('\n');
        File.WriteAllText(mergesPath, merges.ToString());
    }

    /// <summary>
    /// GPT-2/CLIP's reversible byte → printable character table: printable Latin-1 bytes map to themselves,
    /// the others to code points from 256 upwards. Index = byte value.
    /// </summary>
    public static string[] ByteSymbols()
    {
        var symbols = new string[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            symbols[b] = char.ConvertFromUtf32(printable ? b : next++);
        }

        return symbols;
    }

    private void AddWord(string word, string[] byteSymbols)
    {
        while (true)
        {
            List<string> tokens = ApplyMerges(SymbolsOf(word, byteSymbols));
            if (tokens.Count == 1) return;
            (string, string) pair = (tokens[0], tokens[1]);
            _mergeRanks[pair] = _merges.Count;
            _merges.Add(pair);
            AddToken(tokens[0] + tokens[1]);
        }
    }

    /// <summary>Standard BPE: repeatedly merge every occurrence of the lowest-ranked adjacent pair.</summary>
    private List<string> ApplyMerges(List<string> tokens)
    {
        while (tokens.Count > 1)
        {
            int bestRank = int.MaxValue;
            for (int i = 0; i < tokens.Count - 1; i++)
            {
                if (_mergeRanks.TryGetValue((tokens[i], tokens[i + 1]), out int rank) && rank < bestRank) bestRank = rank;
            }

            if (bestRank == int.MaxValue) break;
            (string left, string right) = _merges[bestRank];
            var merged = new List<string>(tokens.Count);
            for (int i = 0; i < tokens.Count; i++)
            {
                if (i < tokens.Count - 1 && tokens[i] == left && tokens[i + 1] == right)
                {
                    merged.Add(left + right);
                    i++;
                }
                else
                {
                    merged.Add(tokens[i]);
                }
            }

            tokens = merged;
        }

        return tokens;
    }

    private static List<string> SymbolsOf(string word, string[] byteSymbols)
    {
        var symbols = System.Text.Encoding.UTF8.GetBytes(word).Select(b => byteSymbols[b]).ToList();
        symbols[^1] += EndOfWord;
        return symbols;
    }

    private void AddToken(string token) => _vocabulary.TryAdd(token, _vocabulary.Count);
}
