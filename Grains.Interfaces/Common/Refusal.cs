namespace PatientConnect.Common;

/// <summary>Which rule said no, as far as a caller needs to know it (the Api maps it to an HTTP status).</summary>
[GenerateSerializer, Alias("pc.RefusalKind")]
public enum RefusalKind
{
    /// <summary>The object does not exist or belongs to another tenant.</summary>
    NotFound,
    /// <summary>The object exists but its state does not allow the request now (a connection that is not active).</summary>
    Conflict,
}

/// <summary>
/// A domain refusal as the grain that owns the rule decided it: the kind, a stable snake_case code
/// (CONTRACT.md's problem codes), a one-line title and the detail for this object. Grains return it;
/// the Api only maps <see cref="Kind"/> to a status and copies the rest.
/// </summary>
[GenerateSerializer, Immutable, Alias("pc.Refusal")]
public sealed record Refusal(
    [property: Id(0)] RefusalKind Kind,
    [property: Id(1)] string Code,
    [property: Id(2)] string Title,
    [property: Id(3)] string Detail);

/// <summary>A grain's answer that is either the value asked for or the refusal of the rule that said no.</summary>
[GenerateSerializer, Immutable, Alias("pc.Outcome`1")]
public sealed record Outcome<T>([property: Id(0)] T? Value, [property: Id(1)] Refusal? Refusal) where T : class
{
    public static Outcome<T> Ok(T value) => new(value, null);

    public static Outcome<T> Refused(RefusalKind kind, string code, string title, string detail) => new(null, new Refusal(kind, code, title, detail));
}
