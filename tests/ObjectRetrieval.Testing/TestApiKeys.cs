using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace ObjectRetrieval.Testing;

/// <summary>
/// One fixed API key per role for the tests' gateways, configured by hash as production keys are; <see cref="Settings"/>
/// gives the configuration entries and <see cref="Authorize"/> makes a client send a key.
/// </summary>
public static class TestApiKeys
{
    public const string Reader = "objret_test-reader-key-0000000000000000000000000000";

    public const string Writer = "objret_test-writer-key-0000000000000000000000000000";

    public const string Admin = "objret_test-admin-key-00000000000000000000000000000";

    /// <summary>A second admin key, valid at the same time as <see cref="Admin"/> (rotation).</summary>
    public const string RotatedAdmin = "objret_test-admin-key-rotated-0000000000000000000000";

    private static readonly (string Name, string Role, string Key)[] All =
    [
        ("test-reader", "reader", Reader),
        ("test-writer", "writer", Writer),
        ("test-admin", "admin", Admin),
        ("test-admin-next", "admin", RotatedAdmin),
    ];

    public static string Sha256(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>"Gateway:ApiKeys:N:..." entries for every test key.</summary>
    public static Dictionary<string, string?> Settings()
    {
        var settings = new Dictionary<string, string?>();
        for (int i = 0; i < All.Length; i++)
        {
            string at = string.Create(CultureInfo.InvariantCulture, $"Gateway:ApiKeys:{i}");
            settings[at + ":Name"] = All[i].Name;
            settings[at + ":Role"] = All[i].Role;
            settings[at + ":Sha256"] = Sha256(All[i].Key);
        }

        return settings;
    }

    /// <summary>The same keys as a JSON-serialisable "Gateway" section object for configuration files.</summary>
    public static object[] ConfigurationEntries() => All.Select(k => (object)new { k.Name, k.Role, Sha256 = Sha256(k.Key) }).ToArray();

    public static HttpClient Authorize(this HttpClient http, string key = Admin)
    {
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }
}
