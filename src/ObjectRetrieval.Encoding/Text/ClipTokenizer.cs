using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using ObjectRetrieval.Encoding.Models;

namespace ObjectRetrieval.Encoding.Text;

/// <summary>
/// CLIP's tokenizer: whitespace clean-up, lower-casing, CLIP's pre-tokenising regex, byte-level BPE with
/// "&lt;/w&gt;" word ends, then start token + ids + end token, truncated to the context length (the end
/// token is kept) and padded with the pad id.
/// </summary>
public sealed partial class ClipTokenizer
{
    private readonly BpeTokenizer _bpe;

    private ClipTokenizer(BpeTokenizer bpe, int contextLength, int startTokenId, int endTokenId, int padTokenId, bool lowercase)
    {
        _bpe = bpe;
        ContextLength = contextLength;
        StartTokenId = startTokenId;
        EndTokenId = endTokenId;
        PadTokenId = padTokenId;
        Lowercase = lowercase;
    }

    public int ContextLength { get; }

    public int StartTokenId { get; }

    public int EndTokenId { get; }

    public int PadTokenId { get; }

    public bool Lowercase { get; }

    public int VocabularySize => _bpe.Vocabulary.Count;

    /// <summary>Loads the tokenizer of a model package.</summary>
    public static ClipTokenizer Load(ModelPackage package)
    {
        using FileStream vocab = File.OpenRead(package.VocabPath);
        using FileStream merges = File.OpenRead(package.MergesPath);
        return Create(vocab, merges, package.Text.Tokenizer, package.Text.ContextLength);
    }

    /// <summary>Builds the tokenizer from vocab.json and merges.txt streams.</summary>
    public static ClipTokenizer Create(Stream vocab, Stream merges, TokenizerSpec spec, int contextLength)
    {
        var specialTokens = new Dictionary<string, int>();
        BpeTokenizer bpe;
        try
        {
            // A first pass finds the special tokens' ids so that the pre-tokenizer keeps them whole.
            var probe = BpeTokenizer.Create(new BpeOptions(ReadVocabulary(vocab)) { Merges = ReadMerges(merges) });
            foreach (string token in new[] { spec.StartToken, spec.EndToken })
            {
                if (probe.Vocabulary.TryGetValue(token, out int id)) specialTokens[token] = id;
            }

            vocab.Position = 0;
            merges.Position = 0;
            bpe = BpeTokenizer.Create(new BpeOptions(ReadVocabulary(vocab))
            {
                Merges = ReadMerges(merges),
                ByteLevel = true,
                EndOfWordSuffix = "</w>",
                Normalizer = spec.Lowercase ? LowerCaseNormalizer.Instance : null,
                PreTokenizer = new RegexPreTokenizer(ClipPattern(), specialTokens),
                SpecialTokens = specialTokens,
            });
        }
        catch (Exception ex) when (ex is not ModelPackageException)
        {
            throw new ModelPackageException($"The tokenizer files ({spec.Vocab}, {spec.Merges}) could not be loaded: {ex.Message}", "text.tokenizer", spec.Vocab, ex);
        }

        if (!specialTokens.TryGetValue(spec.StartToken, out int startId))
        {
            throw new ModelPackageException($"text.tokenizer.startToken '{spec.StartToken}' is not in {spec.Vocab}.", "text.tokenizer.startToken", spec.Vocab);
        }

        if (!specialTokens.TryGetValue(spec.EndToken, out int endId))
        {
            throw new ModelPackageException($"text.tokenizer.endToken '{spec.EndToken}' is not in {spec.Vocab}.", "text.tokenizer.endToken", spec.Vocab);
        }

        if (spec.PadTokenId >= bpe.Vocabulary.Count)
        {
            throw new ModelPackageException(
                $"text.tokenizer.padTokenId {spec.PadTokenId} is outside the vocabulary of {bpe.Vocabulary.Count} tokens.", "text.tokenizer.padTokenId", spec.Vocab);
        }

        return new ClipTokenizer(bpe, contextLength, startId, endId, spec.PadTokenId, spec.Lowercase);
    }

    /// <summary>The BPE ids of <paramref name="text"/> without start/end tokens or padding.</summary>
    public IReadOnlyList<int> TokenizeWords(string text) => _bpe.EncodeToIds(Clean(text));

    /// <summary>
    /// Writes the model input row for <paramref name="text"/> into <paramref name="ids"/> (length
    /// <see cref="ContextLength"/>) and, when given, 1/0 into <paramref name="attentionMask"/>.
    /// Returns how many positions hold real tokens.
    /// </summary>
    public int Encode(string text, Span<long> ids, Span<long> attentionMask = default)
    {
        if (ids.Length != ContextLength) throw new ArgumentException($"The id row needs {ContextLength} slots, got {ids.Length}.", nameof(ids));
        IReadOnlyList<int> words = TokenizeWords(text);
        int wordCount = Math.Min(words.Count, ContextLength - 2);
        ids[0] = StartTokenId;
        for (int i = 0; i < wordCount; i++) ids[i + 1] = words[i];
        ids[wordCount + 1] = EndTokenId;
        int length = wordCount + 2;
        ids[length..].Fill(PadTokenId);
        if (!attentionMask.IsEmpty)
        {
            attentionMask[..length].Fill(1);
            attentionMask[length..].Clear();
        }

        return length;
    }

    /// <summary>Convenience for tests and tools: the full padded row as an array.</summary>
    public long[] Encode(string text)
    {
        var ids = new long[ContextLength];
        Encode(text, ids);
        return ids;
    }

    /// <summary>CLIP collapses runs of whitespace and trims before tokenizing.</summary>
    private static string Clean(string text) => Whitespace().Replace(text, " ").Trim();

    private static Dictionary<string, int> ReadVocabulary(Stream vocab) =>
        System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, int>>(vocab)
        ?? throw new InvalidDataException("vocab.json is empty.");

    private static List<string> ReadMerges(Stream merges)
    {
        var lines = new List<string>();
        using var reader = new StreamReader(merges, leaveOpen: true);
        while (reader.ReadLine() is { } line)
        {
            // The first line of CLIP's merges.txt is a "#version" header.
            if (line.Length == 0 || line.StartsWith("#version", StringComparison.Ordinal)) continue;
            lines.Add(line);
        }

        return lines;
    }

    // CLIP's pre-tokenising pattern: special tokens, English contractions, letter runs, single digits, other symbol runs.
    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase)]
    private static partial Regex ClipPattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
