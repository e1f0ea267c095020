using Microsoft.Extensions.Options;

namespace PatientConnect.Api.Hosting;

/// <summary>
/// The dashboard credential is both halves or neither: a user name without a password (or the reverse)
/// is a half-done setting that would otherwise leave the dashboard silently disabled.
/// </summary>
public sealed class ApiOptionsValidator : IValidateOptions<ApiOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiOptions options)
    {
        var admin = options.Admin;
        var user = !string.IsNullOrEmpty(admin.Username);
        var password = !string.IsNullOrEmpty(admin.Password);
        if (user == password) return ValidateOptionsResult.Success;
        var missing = user ? "Password" : "Username";
        return ValidateOptionsResult.Fail(
            $"{ApiOptions.Section}:Admin:{missing} is not set, but {ApiOptions.Section}:Admin:{(user ? "Username" : "Password")} is. " +
            "Set both to enable the dashboard, or neither to disable it.");
    }
}
