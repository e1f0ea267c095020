namespace PatientConnect.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A program some tests need from the machine (Chromium, docker-compose). Missing on a developer's
/// machine, the test is skipped with the reason; missing in CI (<c>CI=true</c>, as CI systems set it),
/// the test fails with the same reason, so a CI image without the tool cannot pass by skipping.
/// </summary>
public static class RequiredTool
{
    public enum MissingTool { Skip, Fail }

    /// <summary>What a missing tool does to the test: fail in CI, skip elsewhere.</summary>
    public static MissingTool WhenMissing(bool inCi) => inCi ? MissingTool.Fail : MissingTool.Skip;

    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips (or in CI fails) the calling test when Chromium is not installed.</summary>
    public static void Chromium() => Require(File.Exists(BrowserFixture.ChromiumPath) ? BrowserFixture.ChromiumPath : null,
        $"Chromium is not installed at {BrowserFixture.ChromiumPath} (test.sh installs it: apt-get install -y chromium)");

    /// <summary>The docker-compose executable; skips (or in CI fails) the calling test when there is none.</summary>
    public static string DockerCompose() => Require(
        new[] { "/usr/bin/docker-compose", "/usr/local/bin/docker-compose" }.FirstOrDefault(File.Exists),
        "docker-compose is not installed (test.sh installs it: apt-get install -y docker-compose)");

    /// <summary>The tool's path when present; otherwise a skip, or in CI a failure, naming what is missing.</summary>
    public static string Require(string? path, string reason) => Require(path, reason, InCi);

    /// <summary>As <see cref="Require(string?, string)"/>, with CI given rather than read from the environment.</summary>
    public static string Require(string? path, string reason, bool inCi)
    {
        if (path is not null) return path;
        if (WhenMissing(inCi) == MissingTool.Fail) Assert.Fail($"{reason}. CI=true: a missing tool fails the run instead of skipping its tests.");
        Assert.Skip(reason);
        return "";
    }
}
