using System.CommandLine;
using ObjectRetrieval.Gateway.Security;

namespace ObjectRetrieval.Cli.Commands;

/// <summary>
/// <c>objret keys new --name N --role R</c>: a fresh API key, printed once, with the configuration that accepts it
/// (only the hash is configured; the key itself is stored nowhere).
/// </summary>
internal static class KeysCommand
{
    public static Command Create()
    {
        var name = new Option<string>("--name") { Description = "The key's name (logs, rate-limit partition); unique per gateway.", DefaultValueFactory = _ => "admin" };
        var role = new Option<string>("--role") { Description = $"One of {string.Join(", ", ApiRoles.All)}; each includes the ones before it.", DefaultValueFactory = _ => ApiRoles.Reader };
        var create = new Command("new", "Make an API key and print it with its SHA-256 for the gateway's configuration.") { name, role };
        create.SetAction(r =>
        {
            string roleName = r.GetValue(role)!;
            string keyName = r.GetValue(name)!;
            if (ApiRoles.Rank(roleName) < 0)
            {
                Console.Error.WriteLine($"error: --role '{roleName}' is not one of {string.Join(", ", ApiRoles.All)}.");
                return ExitCodes.BadInput;
            }

            if (string.IsNullOrWhiteSpace(keyName) || keyName.Any(char.IsWhiteSpace))
            {
                Console.Error.WriteLine("error: --name must be one word.");
                return ExitCodes.BadInput;
            }

            string key = ApiKey.New();
            string hash = ApiKey.HashHex(key);
            Console.WriteLine($"key:    {key}");
            Console.WriteLine($"sha256: {hash}");
            Console.WriteLine($"keys-file line:  {keyName} {roleName.ToLowerInvariant()} {hash}");
            Console.WriteLine($"configuration:   \"Gateway\": {{ \"ApiKeys\": [ {{ \"Name\": \"{keyName}\", \"Role\": \"{roleName.ToLowerInvariant()}\", \"Sha256\": \"{hash}\" }} ] }}");
            return ExitCodes.Success;
        });
        return new Command("keys", "API keys of the gateway.") { create };
    }
}
