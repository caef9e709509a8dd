using System.Globalization;
using Microsoft.Extensions.Options;

namespace ObjectRetrieval.Gateway.Security;

/// <summary>Every gateway setting checked at start, each problem named by its configuration path.</summary>
public sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        const string p = GatewayOptions.SectionName;
        var problems = new List<string>();
        if (options.ShardDeadline <= TimeSpan.Zero) problems.Add($"{p}:{nameof(GatewayOptions.ShardDeadline)} must be positive.");
        if (options.MaxImageBytes < 1) problems.Add($"{p}:{nameof(GatewayOptions.MaxImageBytes)} must be positive.");
        if (options.MaxJsonBodyBytes < 1024) problems.Add($"{p}:{nameof(GatewayOptions.MaxJsonBodyBytes)} must be at least 1024.");
        if (options.TextTowerConcurrency < 1) problems.Add($"{p}:{nameof(GatewayOptions.TextTowerConcurrency)} must be at least 1.");
        if (options.ApiKeysFile is { Length: > 0 } file && !File.Exists(file)) problems.Add($"{p}:{nameof(GatewayOptions.ApiKeysFile)} '{file}' does not exist.");

        IReadOnlyList<ApiKeyEntry> keys;
        try
        {
            keys = options.AllApiKeys();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            problems.Add($"{p}:{nameof(GatewayOptions.ApiKeysFile)}: {e.Message}");
            keys = options.ApiKeys;
        }

        if (keys.Count == 0)
        {
            problems.Add($"{p}:{nameof(GatewayOptions.ApiKeys)} is empty and no {p}:{nameof(GatewayOptions.ApiKeysFile)} names any: every API route needs a key. "
                + "Make one with 'objret keys new --role admin' and configure its name, role and sha256.");
        }

        for (int i = 0; i < keys.Count; i++)
        {
            ApiKeyEntry key = keys[i];
            string at = string.Create(CultureInfo.InvariantCulture, $"{p}:{nameof(GatewayOptions.ApiKeys)}:{i}");
            if (string.IsNullOrWhiteSpace(key.Name)) problems.Add($"{at}:{nameof(ApiKeyEntry.Name)} is empty.");
            if (ApiRoles.Rank(key.Role) < 0) problems.Add($"{at}:{nameof(ApiKeyEntry.Role)} '{key.Role}' is not one of {string.Join(", ", ApiRoles.All)}.");
            if (key.Sha256.Trim() is not { Length: 64 } hex || !hex.All(char.IsAsciiHexDigit)) problems.Add($"{at}:{nameof(ApiKeyEntry.Sha256)} is not 64 hex digits (the SHA-256 of the key).");
        }

        foreach (string duplicate in keys.GroupBy(k => k.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key))
        {
            problems.Add($"{p}:{nameof(GatewayOptions.ApiKeys)} names '{duplicate}' more than once; rotate with two names (e.g. ops-2026a, ops-2026b).");
        }

        RateLimitSettings rate = options.RateLimit;
        if (rate.RequestsPerSecond < 1 || rate.Burst < 1) problems.Add($"{p}:{nameof(GatewayOptions.RateLimit)}:RequestsPerSecond and Burst must be at least 1.");
        if (rate.ConcurrentUploads < 1 || rate.QueuedUploads < 0) problems.Add($"{p}:{nameof(GatewayOptions.RateLimit)}:ConcurrentUploads must be at least 1 and QueuedUploads not negative.");
        QuotaSettings quotas = options.Quotas;
        if (quotas.MaxIndexes < 1 || quotas.MaxShardsPerIndex < 1 || quotas.MaxIvfLists < 1 || quotas.MaxActiveJobs < 1 || quotas.MaxIngestImageBytes < 1)
        {
            problems.Add($"{p}:{nameof(GatewayOptions.Quotas)}: every quota must be positive.");
        }

        foreach (string container in options.AllowedContainers.Where(c => string.IsNullOrWhiteSpace(c) || c.StartsWith('/')))
        {
            problems.Add($"{p}:{nameof(GatewayOptions.AllowedContainers)} entry '{container}' is not \"container\" or \"container/prefix\".");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
