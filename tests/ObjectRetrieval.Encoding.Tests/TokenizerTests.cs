using ObjectRetrieval.Demo;
using ObjectRetrieval.Encoding.Models;
using ObjectRetrieval.Encoding.Text;

namespace ObjectRetrieval.Encoding.Tests;

public sealed class TokenizerTests
{
    private static readonly TokenizerSpec Spec = new("vocab.json", "merges.txt", "<|startoftext|>", "<|endoftext|>", PadTokenId: 0, Lowercase: true);

    /// <summary>
    /// A hand-made vocabulary in CLIP's layout: ids 0–3 single symbols, then word-end forms, then merges.
    /// Merges (in rank order): "r e" → "re", "re d&lt;/w&gt;" → "red&lt;/w&gt;", "a p" → "ap".
    /// </summary>
    private static ClipTokenizer HandMade(int contextLength = 8)
    {
        string vocab = """
        {"!": 0, "a": 1, "d": 2, "e": 3, "p": 4, "r": 5,
         "a</w>": 6, "d</w>": 7, "e</w>": 8, "p</w>": 9, "r</w>": 10, "!</w>": 11,
         "re": 12, "red</w>": 13, "ap": 14,
         "<|startoftext|>": 15, "<|endoftext|>": 16}
        """;
        string merges = "#version: 0.2\nr e\nre d</w>\na p\n";
        return ClipTokenizer.Create(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(vocab)), new MemoryStream(System.Text.Encoding.UTF8.GetBytes(merges)), Spec, contextLength);
    }

    [Fact]
    public void Words_become_their_merged_tokens()
    {
        ClipTokenizer tokenizer = HandMade();
        Assert.Equal([13], tokenizer.TokenizeWords("red"));            // r e d</w> → re d</w> → red</w>
        Assert.Equal([14, 8], tokenizer.TokenizeWords("ape"));         // a p e</w> → ap e</w>
        Assert.Equal([12, 3, 10], tokenizer.TokenizeWords("reer"));    // r e e r</w> → re e r</w>
        Assert.Equal([6, 13], tokenizer.TokenizeWords("a red"));
    }

    [Fact]
    public void Lower_cases_cleans_whitespace_and_splits_punctuation()
    {
        ClipTokenizer tokenizer = HandMade();
        Assert.Equal([6, 13, 11], tokenizer.TokenizeWords("  A \t RED!  "));
    }

    [Fact]
    public void Rows_start_end_and_pad()
    {
        ClipTokenizer tokenizer = HandMade();
        Assert.Equal([15, 6, 13, 16, 0, 0, 0, 0], tokenizer.Encode("a red"));

        var ids = new long[8];
        var mask = new long[8];
        Assert.Equal(4, tokenizer.Encode("a red", ids, mask));
        Assert.Equal([1, 1, 1, 1, 0, 0, 0, 0], mask);
    }

    [Fact]
    public void Truncation_keeps_the_end_token()
    {
        ClipTokenizer tokenizer = HandMade(contextLength: 5);
        Assert.Equal([15, 13, 13, 13, 16], tokenizer.Encode("red red red red red"));
    }

    [Fact]
    public void The_demo_vocabulary_makes_every_listed_word_one_token()
    {
        var words = ColourWorld.Categories.Select(c => c.Name).Concat(DemoVocabulary.FillerWords).ToList();
        DemoVocabulary vocabulary = DemoVocabulary.Build(words);
        using var directory = new TempDirectory();
        vocabulary.Write(directory.File("vocab.json"), directory.File("merges.txt"));
        using FileStream vocab = File.OpenRead(directory.File("vocab.json"));
        using FileStream merges = File.OpenRead(directory.File("merges.txt"));
        ClipTokenizer tokenizer = ClipTokenizer.Create(vocab, merges, Spec, 77);

        foreach (string word in words)
        {
            Assert.Equal([vocabulary.WordId(word)], tokenizer.TokenizeWords(word));
        }

        Assert.Equal(
            [vocabulary.WordId("a"), vocabulary.WordId("photo"), vocabulary.WordId("of"), vocabulary.WordId("a"), vocabulary.WordId("red"), vocabulary.Vocabulary[".</w>"]],
            tokenizer.TokenizeWords("A photo of a RED."));
    }

    [Fact]
    public void Unknown_words_fall_back_to_byte_symbols()
    {
        DemoVocabulary vocabulary = DemoVocabulary.Build(["red"]);
        using var directory = new TempDirectory();
        vocabulary.Write(directory.File("vocab.json"), directory.File("merges.txt"));
        using FileStream vocab = File.OpenRead(directory.File("vocab.json"));
        using FileStream merges = File.OpenRead(directory.File("merges.txt"));
        ClipTokenizer tokenizer = ClipTokenizer.Create(vocab, merges, Spec, 77);

        // "zé": z, then é's two UTF-8 bytes (0xC3 → "Ã", 0xA9 → "©") with the word end on the last.
        Assert.Equal([vocabulary.Vocabulary["z"], vocabulary.Vocabulary["Ã"], vocabulary.Vocabulary["©</w>"]], tokenizer.TokenizeWords("zé"));
    }
}
