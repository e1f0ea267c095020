using PatientConnect.Sessions;

namespace PatientConnect.Api.Sessions;

/// <summary>The Api's name for <see cref="SessionRules.CheckReturnUrl"/>, which owns the rule (the grains use it too).</summary>
public static class ReturnUrls
{
    /// <summary>Null when acceptable, otherwise why not.</summary>
    public static string? Check(string text, bool allowLoopbackHttp) => SessionRules.CheckReturnUrl(text, allowLoopbackHttp);
}
