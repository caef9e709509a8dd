using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using ObjectRetrieval.Demo;
using ObjectRetrieval.Encoding.Models;

namespace ObjectRetrieval.Encoding.Tests;

/// <summary>A temporary directory removed when the test ends.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "objret-enc-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a leftover temp folder is harmless
        }
    }
}

/// <summary>The demo model generated once for all tests of the assembly.</summary>
public sealed class DemoModelFixture : IDisposable
{
    private readonly TempDirectory _directory = new();

    public DemoModelFixture()
    {
        Package = DemoModelGenerator.Write(_directory.Path, Options);
        Weights = DemoModelWeights.Create(Options.ImageSize, Options.PatchSize, Options.Dimension, Options.Seed, Options.Temperature);
    }

    /// <summary>A small input keeps the tests fast; the graph accepts any multiple of the patch size.</summary>
    public static DemoModelOptions Options { get; } = new() { ImageSize = 224 };

    public ModelPackage Package { get; }

    public DemoModelWeights Weights { get; }

    public void Dispose() => _directory.Dispose();
}

[CollectionDefinition(Name)]
public sealed class DemoModelCollection : ICollectionFixture<DemoModelFixture>
{
    public const string Name = "demo model";
}

internal static class Near
{
    /// <summary>Element-wise |expected − actual| ≤ tolerance, naming the first element that is not.</summary>
    public static void Equal(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance = 1e-4f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance))
            {
                Assert.Fail($"Element {i}: expected {expected[i]}, got {actual[i]} (tolerance {tolerance}).");
            }
        }
    }
}

/// <summary>Captures log entries so tests can check what was reported.</summary>
public sealed class ListLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, formatter(state, exception)));
}
