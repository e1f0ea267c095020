using Microsoft.Net.Http.Headers;

namespace PatientConnect.Api.Connect;

/// <summary>
/// Every word a patient reads on our pages, in each language we serve. A page takes one of these
/// and never writes English of its own, so a Spanish page cannot leak an English sentence.
/// </summary>
public sealed record PageText
{
    public required string Lang { get; init; }
    public required string SiteSuffix { get; init; }
    public required string SearchTitle { get; init; }
    public required string SearchIntro { get; init; }
    public required string SearchLabel { get; init; }
    public required string SearchButton { get; init; }
    public required string Suggested { get; init; }
    public required string NearYou { get; init; }
    public required string Available { get; init; }
    public required string TypeToSearch { get; init; }
    /// <summary>{0}: the query.</summary>
    public required string ResultsFor { get; init; }
    public required string NoResults { get; init; }
    public required string MoreResults { get; init; }
    /// <summary>{0}: the other name that matched.</summary>
    public required string AlsoKnownAs { get; init; }
    /// <summary>{0}: the portal's name.</summary>
    public required string PortalLine { get; init; }
    public required string NotConnectable { get; init; }
    public required string BackToApp { get; init; }
    public required string ChooseAnother { get; init; }
    public required string SignInFailedTitle { get; init; }
    public required string SignInInvalidMessage { get; init; }
    public required string ChooseTitle { get; init; }
    public required string ChooseMessage { get; init; }
    public required string NotFoundTitle { get; init; }
    public required string NotFoundMessage { get; init; }
    public required string ExpiredTitle { get; init; }
    public required string ExpiredMessage { get; init; }
    public required string UsedTitle { get; init; }
    public required string UsedMessage { get; init; }
    public required string GoneTitle { get; init; }
    public required string GoneMessage { get; init; }
    public required string RefusedTitle { get; init; }
    public required string RefusedMessage { get; init; }
    public required string EhrDownTitle { get; init; }
    public required string EhrDownMessage { get; init; }
    public required string BusyTitle { get; init; }
    public required string BusyMessage { get; init; }
    public required string FailedTitle { get; init; }
    public required string FailedMessage { get; init; }

    public static readonly PageText English = new()
    {
        Lang = "en",
        SiteSuffix = "PatientConnect",
        SearchTitle = "Connect your health records",
        SearchIntro = "Find your hospital, clinic or health plan, then sign in to its patient portal to share your records.",
        SearchLabel = "Search by name, patient portal, city, state or ZIP code",
        SearchButton = "Search",
        Suggested = "Suggested for you",
        NearYou = "Near you",
        Available = "Providers you can connect",
        TypeToSearch = "Type the name of your hospital, clinic, health plan or patient portal (for example \u201CMyChart\u201D) to find it.",
        ResultsFor = "Results for \u201C{0}\u201D",
        NoResults = "No provider matches your search. Try a shorter name, a city or a ZIP code.",
        MoreResults = "More results",
        AlsoKnownAs = "Also known as {0}",
        PortalLine = "Patient portal: {0}",
        NotConnectable = "Online connection not available yet",
        BackToApp = "Back to the app",
        ChooseAnother = "Choose another provider",
        SignInFailedTitle = "This sign-in could not be completed",
        SignInInvalidMessage = "The response from the patient portal is not valid or was already used. Go back to the app and start again.",
        ChooseTitle = "Choose a provider",
        ChooseMessage = "That provider link is not valid. Please pick your provider from the list.",
        NotFoundTitle = "Link not found",
        NotFoundMessage = "This connection link does not exist. Check that you opened the whole link, or go back to the app for a new one.",
        ExpiredTitle = "This link has expired",
        ExpiredMessage = "This connection link is no longer valid. Go back to the app to get a new one.",
        UsedTitle = "This link has already been used",
        UsedMessage = "You have already finished with this connection link. Go back to the app to continue.",
        GoneTitle = "This link is no longer valid",
        GoneMessage = "This connection link can no longer be used. Go back to the app to get a new one.",
        RefusedTitle = "We could not connect to this provider",
        RefusedMessage = "We could not start the connection to this provider. Please choose another one or try again later.",
        EhrDownTitle = "The provider's portal is not answering",
        EhrDownMessage = "The provider's patient portal did not answer. Please try again in a few minutes.",
        BusyTitle = "Please try again in a moment",
        BusyMessage = "The service is busy or restarting. Reload this page in a few seconds.",
        FailedTitle = "Something went wrong",
        FailedMessage = "An unexpected error occurred. Reload this page, or go back to the app and start again.",
    };

    public static readonly PageText Spanish = new()
    {
        Lang = "es",
        SiteSuffix = "PatientConnect",
        SearchTitle = "Conecte sus registros médicos",
        SearchIntro = "Busque su hospital, clínica o plan de salud y luego inicie sesión en su portal de pacientes para compartir sus registros.",
        SearchLabel = "Busque por nombre, portal de pacientes, ciudad, estado o código postal",
        SearchButton = "Buscar",
        Suggested = "Sugeridos para usted",
        NearYou = "Cerca de usted",
        Available = "Proveedores que puede conectar",
        TypeToSearch = "Escriba el nombre de su hospital, clínica, plan de salud o portal de pacientes (por ejemplo, \u201CMyChart\u201D) para encontrarlo.",
        ResultsFor = "Resultados para \u201C{0}\u201D",
        NoResults = "Ningún proveedor coincide con su búsqueda. Pruebe con un nombre más corto, una ciudad o un código postal.",
        MoreResults = "Más resultados",
        AlsoKnownAs = "También conocido como {0}",
        PortalLine = "Portal de pacientes: {0}",
        NotConnectable = "La conexión en línea aún no está disponible",
        BackToApp = "Volver a la aplicación",
        ChooseAnother = "Elegir otro proveedor",
        SignInFailedTitle = "No se pudo completar el inicio de sesión",
        SignInInvalidMessage = "La respuesta del portal de pacientes no es válida o ya se usó. Vuelva a la aplicación y empiece de nuevo.",
        ChooseTitle = "Elija un proveedor",
        ChooseMessage = "Ese enlace de proveedor no es válido. Elija su proveedor de la lista.",
        NotFoundTitle = "Enlace no encontrado",
        NotFoundMessage = "Este enlace de conexión no existe. Compruebe que abrió el enlace completo o vuelva a la aplicación para obtener uno nuevo.",
        ExpiredTitle = "Este enlace ha caducado",
        ExpiredMessage = "Este enlace de conexión ya no es válido. Vuelva a la aplicación para obtener uno nuevo.",
        UsedTitle = "Este enlace ya se utilizó",
        UsedMessage = "Ya terminó con este enlace de conexión. Vuelva a la aplicación para continuar.",
        GoneTitle = "Este enlace ya no es válido",
        GoneMessage = "Este enlace de conexión ya no se puede usar. Vuelva a la aplicación para obtener uno nuevo.",
        RefusedTitle = "No pudimos conectar con este proveedor",
        RefusedMessage = "No pudimos iniciar la conexión con este proveedor. Elija otro o inténtelo más tarde.",
        EhrDownTitle = "El portal del proveedor no responde",
        EhrDownMessage = "El portal de pacientes del proveedor no respondió. Inténtelo de nuevo en unos minutos.",
        BusyTitle = "Inténtelo de nuevo en un momento",
        BusyMessage = "El servicio está ocupado o reiniciándose. Vuelva a cargar esta página en unos segundos.",
        FailedTitle = "Algo salió mal",
        FailedMessage = "Ocurrió un error inesperado. Vuelva a cargar esta página o vuelva a la aplicación y empiece de nuevo.",
    };

    public static PageText For(string? lang) => lang == "es" ? Spanish : English;

    /// <summary>
    /// The page's language: the session's locale when the app gave one, else the browser's
    /// Accept-Language (its most preferred of ours), else English.
    /// </summary>
    public static PageText Choose(HttpContext http, string? sessionLocale)
    {
        if (sessionLocale is "en" or "es") return For(sessionLocale);
        return For(FromAcceptLanguage(http.Request.Headers.AcceptLanguage.ToString()));
    }

    private static string? FromAcceptLanguage(string header)
    {
        if (string.IsNullOrWhiteSpace(header)) return null;
        if (!StringWithQualityHeaderValue.TryParseList(header.Split(','), out var values)) return null;
        foreach (var value in values.OrderByDescending(v => v.Quality ?? 1.0))
        {
            if (value.Quality == 0) continue;
            var tag = value.Value.Value ?? "";
            var primary = tag.Split('-')[0].ToLowerInvariant();
            if (primary is "en" or "es") return primary;
        }
        return null;
    }
}
