using Microsoft.Extensions.Options;
using PatientConnect.Grains.Common;

namespace PatientConnect.Grains;

public sealed class PatientConnectOptionsValidator : IValidateOptions<PatientConnectOptions>
{
    public ValidateOptionsResult Validate(string? name, PatientConnectOptions o) => new OptionRules(PatientConnectOptions.SectionName)
        .Check(Uri.TryCreate(o.PublicBaseUrl, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttps || url.Scheme == Uri.UriSchemeHttp),
            nameof(o.PublicBaseUrl), "must be an absolute http(s) URL (where the Api is reachable)", o.PublicBaseUrl)
        .Result;
}
