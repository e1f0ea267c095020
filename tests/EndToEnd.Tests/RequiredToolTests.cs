using PatientConnect.EndToEnd.Tests.Infrastructure;
using Xunit.Sdk;

namespace PatientConnect.EndToEnd.Tests;

/// <summary>Browser and compose tests skip on a developer's machine without the tool, and fail in CI.</summary>
public sealed class RequiredToolTests
{
    [Fact]
    public void A_missing_tool_fails_the_test_in_CI_with_what_is_missing()
    {
        var e = Assert.ThrowsAny<Exception>(() => RequiredTool.Require(null, "frobnicator is not installed", inCi: true));
        Assert.IsType<FailException>(e);
        Assert.Contains("frobnicator is not installed", e.Message);
        Assert.Contains("CI=true", e.Message);
    }

    [Fact]
    public void A_missing_tool_skips_the_test_outside_CI_and_fails_it_in_CI()
    {
        // Assert.Skip itself cannot be observed from a passing test (xunit marks the test skipped), so the decision is checked.
        Assert.Equal(RequiredTool.MissingTool.Skip, RequiredTool.WhenMissing(inCi: false));
        Assert.Equal(RequiredTool.MissingTool.Fail, RequiredTool.WhenMissing(inCi: true));
    }

    [Fact]
    public void A_present_tool_is_used_in_and_outside_CI()
    {
        Assert.Equal("/usr/bin/frobnicator", RequiredTool.Require("/usr/bin/frobnicator", "unused", inCi: true));
        Assert.Equal("/usr/bin/frobnicator", RequiredTool.Require("/usr/bin/frobnicator", "unused", inCi: false));
    }
}
