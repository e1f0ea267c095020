namespace PatientConnect.Common;

/// <summary>
/// A request value a grain refused (a cursor it did not issue): the field as the contract names it and
/// why. Thrown where the value is first understood (deep in a query); the Api answers 400 naming
/// <see cref="Field"/>, without reading the message for it.
/// </summary>
[GenerateSerializer, Alias("pc.InvalidFieldException")]
public sealed class InvalidFieldException : Exception
{
    public InvalidFieldException()
    {
    }

    public InvalidFieldException(string field, string message) : base(message)
    {
        Field = field;
        Reason = message;
    }

    [Id(0)] public string Field { get; init; } = "";

    /// <summary>The message again, as its own member: it travels with the field whatever the exception codec keeps.</summary>
    [Id(1)] public string Reason { get; init; } = "";

    /// <summary>The cursor refusal every paged list shares.</summary>
    public static InvalidFieldException CursorNotIssued() => new("cursor", "The cursor is not one this list issued.");
}
