namespace ObjectRetrieval.Demo;

/// <summary>An sRGB colour with a name.</summary>
public readonly record struct NamedColour(string Name, byte R, byte G, byte B);

/// <summary>
/// The demo world: objects are coloured regions. Ten categories, each one colour, plus background and
/// distractor tones that are deliberately close to some categories (a maroon region looks a little red,
/// tan a little orange) so that large non-object areas pull a global embedding around.
/// </summary>
public static class ColourWorld
{
    /// <summary>The object categories, in COCO id order (id = index + 1).</summary>
    public static IReadOnlyList<NamedColour> Categories { get; } =
    [
        new("red", 220, 40, 40),
        new("orange", 245, 140, 30),
        new("yellow", 240, 220, 40),
        new("green", 40, 170, 60),
        new("cyan", 40, 200, 210),
        new("blue", 40, 70, 220),
        new("purple", 140, 60, 200),
        new("pink", 245, 130, 190),
        new("brown", 130, 80, 40),
        new("white", 245, 245, 245),
    ];

    /// <summary>Colours that are not categories: large regions of these appear in scenes.</summary>
    public static IReadOnlyList<NamedColour> Distractors { get; } =
    [
        new("dark olive", 85, 90, 45),
        new("slate", 80, 95, 115),
        new("tan", 200, 175, 130),
        new("maroon", 115, 35, 40),
        new("plum", 100, 60, 95),
        new("teal grey", 70, 110, 105),
    ];

    /// <summary>Neutral tones of backgrounds and shadows.</summary>
    public static IReadOnlyList<NamedColour> Neutrals { get; } =
    [
        new("black", 25, 25, 25),
        new("dark grey", 75, 75, 75),
        new("grey", 128, 128, 128),
        new("light grey", 185, 185, 185),
    ];

    /// <summary>Which categories each distractor or neutral resembles (its confusable partners in embedding space).</summary>
    public static IReadOnlyDictionary<string, string[]> LookAlikes { get; } = new Dictionary<string, string[]>
    {
        ["dark olive"] = ["green", "brown"],
        ["slate"] = ["blue", "cyan"],
        ["tan"] = ["orange", "brown", "yellow"],
        ["maroon"] = ["red", "brown"],
        ["plum"] = ["purple", "pink"],
        ["teal grey"] = ["cyan", "green"],
        ["light grey"] = ["white"],
    };

    /// <summary>All prototypes of the demo image tower: categories first, then distractors, then neutrals.</summary>
    public static IReadOnlyList<NamedColour> Prototypes { get; } = [.. Categories, .. Distractors, .. Neutrals];

    public static int CategoryIndex(string name)
    {
        for (int i = 0; i < Categories.Count; i++)
        {
            if (Categories[i].Name == name) return i;
        }

        return -1;
    }
}
