using System.Net;
using System.Text;
using SandboxEhr.Data;
using SandboxEhr.Hospitals;

namespace SandboxEhr.Auth;

/// <summary>The HTML the patient sees: login as a test patient + consent, and the error page.</summary>
public static class ConsentPage
{
    /// <summary>The authorize parameters carried through the form so the POST is validated like the GET.</summary>
    public static readonly string[] CarriedParameters =
        ["response_type", "client_id", "redirect_uri", "scope", "state", "aud", "code_challenge", "code_challenge_method", "nonce"];

    public static IResult Render(Hospital hospital, string formAction, IReadOnlyDictionary<string, string> parameters,
        IReadOnlyList<string> grantedScopes)
    {
        var html = new StringBuilder();
        Head(html, $"Sign in to {hospital.Info.Name}");
        html.Append("<main>\n<h1>").Append(E(hospital.Info.Name)).Append("</h1>\n");
        html.Append("<p>The application <strong>").Append(E(parameters.GetValueOrDefault("client_id") ?? ""))
            .Append("</strong> asks to connect to your records.</p>\n");
        html.Append("<form method=\"post\" action=\"").Append(E(formAction)).Append("\">\n");
        foreach (var name in CarriedParameters)
            if (parameters.TryGetValue(name, out var value))
                html.Append("<input type=\"hidden\" name=\"").Append(name).Append("\" value=\"").Append(E(value)).Append("\">\n");

        html.Append("<fieldset>\n<legend>Sign in as a test patient</legend>\n");
        var patients = hospital.Patients.List();
        if (patients.Count == 0)
            html.Append("<p>This hospital has no patients.</p>\n");
        for (var i = 0; i < patients.Count; i++)
        {
            PatientSummary p = patients[i];
            html.Append("<div><input type=\"radio\" name=\"patient\" id=\"patient-").Append(i).Append("\" value=\"")
                .Append(E(p.Id)).Append('"').Append(i == 0 ? " checked" : "").Append(" required>")
                .Append("<label for=\"patient-").Append(i).Append("\">").Append(E(p.Name))
                .Append(" <small>born ").Append(E(p.BirthDate)).Append(", id ").Append(E(p.Id)).Append("</small></label></div>\n");
        }
        html.Append("</fieldset>\n");

        html.Append("<section aria-labelledby=\"scopes-title\">\n<h2 id=\"scopes-title\">The application will be able to</h2>\n<ul>\n");
        foreach (var scope in grantedScopes)
            html.Append("<li><code>").Append(E(scope)).Append("</code> ").Append(E(Describe(scope))).Append("</li>\n");
        html.Append("</ul>\n</section>\n");

        html.Append("<div class=\"actions\">\n")
            .Append("<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\n")
            .Append("<button type=\"submit\" name=\"decision\" value=\"deny\" formnovalidate>Deny</button>\n")
            .Append("</div>\n</form>\n</main>\n</body>\n</html>\n");
        return Html(html.ToString(), StatusCodes.Status200OK);
    }

    /// <summary>Shown instead of a redirect when the client or redirect URI cannot be trusted (RFC 6749 4.1.2.1).</summary>
    public static IResult Error(string title, string message, int status = StatusCodes.Status400BadRequest)
    {
        var html = new StringBuilder();
        Head(html, title);
        html.Append("<main>\n<h1>").Append(E(title)).Append("</h1>\n<p role=\"alert\">").Append(E(message))
            .Append("</p>\n</main>\n</body>\n</html>\n");
        return Html(html.ToString(), status);
    }

    private static void Head(StringBuilder html, string title) =>
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
            .Append(E(title)).Append("</title>\n<style>")
            .Append("body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}")
            .Append("fieldset{border:1px solid #bbb;border-radius:6px;margin:1rem 0}label{margin-left:.4rem}")
            .Append(".actions{display:flex;gap:1rem}button{font-size:1rem;padding:.5rem 1.5rem}")
            .Append("</style>\n</head>\n<body>\n");

    // Chromium posts forms in the page's charset: without utf-8 declared, names with accents break.
    private static IResult Html(string body, int status) =>
        Results.Content(body, "text/html; charset=utf-8", Encoding.UTF8, status);

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Describe(string scope) => scope switch
    {
        "launch/patient" => "know which patient you are",
        "openid" or "fhirUser" => "know who signed in",
        "offline_access" => "keep access while you are away, until you revoke it",
        _ when ScopePolicy.IsResourceScope(scope) => $"read your {ScopeType(scope)} records",
        _ => "",
    };

    private static string ScopeType(string scope)
    {
        var type = scope["patient/".Length..scope.LastIndexOf('.')];
        return type == "*" ? "all" : type;
    }
}
