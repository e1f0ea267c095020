using System.Collections;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Storage;
using PatientConnect.Grains.Storage;

namespace PatientConnect.Grains.Tests;

/// <summary>
/// Every persisted grain state survives the storage serializer the silo configures
/// (<see cref="StorageSerializerExtensions.UsePatientConnectStorageSerializer"/>), not a default
/// System.Text.Json: once with every member set to a value unlike its default, once with every member
/// at its type's default (a serializer that skips defaults would read the initializer back instead).
/// </summary>
public sealed class StorageSerializerTests
{
    private static readonly IGrainStorageSerializer Serializer = SiloStorageSerializer();

    /// <summary>Every state type a grain of the service persists, found from the grains' constructors.</summary>
    public static TheoryData<string> PersistedStateTypes()
    {
        var data = new TheoryData<string>();
        foreach (var type in StateTypes()) data.Add(type.FullName!);
        return data;
    }

    [Fact]
    public void The_persisted_state_types_include_every_grain_state()
    {
        var names = StateTypes().Select(t => t.Name).ToHashSet();
        // The list is found, not written down; this pins that it finds what is known to be there.
        Assert.Superset(new HashSet<string>
        {
            "PatientSessionState", "PatientState", "ConnectionState", "SyncState", "ApiKeyState", "TenantApiKeysState", "IdempotencyState",
        }, names);
    }

    [Theory]
    [MemberData(nameof(PersistedStateTypes))]
    public void State_round_trips_through_the_silo_storage_serializer_with_every_member_set(string typeName)
    {
        var type = StateTypes().Single(t => t.FullName == typeName);
        var original = Values.Create(type, defaults: false, depth: 0)!;
        AssertRoundTrips(type, original);
    }

    [Theory]
    [MemberData(nameof(PersistedStateTypes))]
    public void State_round_trips_through_the_silo_storage_serializer_with_every_member_at_its_default(string typeName)
    {
        var type = StateTypes().Single(t => t.FullName == typeName);
        var original = Values.Create(type, defaults: true, depth: 0)!;
        AssertRoundTrips(type, original);
    }

    private static void AssertRoundTrips(Type type, object original)
    {
        var roundTrip = typeof(StorageSerializerTests).GetMethod(nameof(RoundTrip), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
        var back = roundTrip.Invoke(null, [original])!;
        // Compared as plain JSON of every public member: a member lost or changed on the way shows by name.
        Assert.Equal(Describe(original), Describe(back));
    }

    private static T RoundTrip<T>(T value) => Serializer.Deserialize<T>(Serializer.Serialize(value))!;

    private static readonly JsonSerializerOptions Plain = new() { WriteIndented = true, IncludeFields = false };

    private static string Describe(object value) => JsonSerializer.Serialize(value, value.GetType(), Plain);

    private static IGrainStorageSerializer SiloStorageSerializer()
    {
        // A silo host built (not started) with the service's own serializer choice.
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo => silo.UseLocalhostClustering().UsePatientConnectStorageSerializer());
        var host = builder.Build();
        return host.Services.GetRequiredService<IGrainStorageSerializer>();
    }

    private static IEnumerable<Type> StateTypes() =>
        typeof(StorageSerializerExtensions).Assembly.GetTypes()
            .Where(t => typeof(Grain).IsAssignableFrom(t) && !t.IsAbstract)
            .SelectMany(t => t.GetConstructors())
            .SelectMany(c => c.GetParameters())
            .Where(p => p.GetCustomAttributes().Any(a => a.GetType().Name == "PersistentStateAttribute")
                        && p.ParameterType.IsGenericType && p.ParameterType.GetGenericTypeDefinition() == typeof(IPersistentState<>))
            .Select(p => p.ParameterType.GetGenericArguments()[0])
            .Distinct()
            .OrderBy(t => t.FullName, StringComparer.Ordinal);

    /// <summary>Values for any member type the states use: distinct from the default, or the default itself.</summary>
    private static class Values
    {
        private static readonly DateTimeOffset Instant = new(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);

        private static readonly NullabilityInfoContext Nullability = new();

        /// <param name="nullable">Whether null is a value the member may hold (a non-nullable string's default is "").</param>
        public static object? Create(Type type, bool defaults, int depth, bool nullable = false)
        {
            if (Nullable.GetUnderlyingType(type) is { } inner) return defaults ? null : Create(inner, defaults, depth);
            if (type == typeof(string)) return defaults ? (nullable ? null : "") : "text-" + depth;
            if (type == typeof(bool)) return !defaults;
            if (type == typeof(int)) return defaults ? 0 : 7;
            if (type == typeof(long)) return defaults ? 0L : 7_000_000_000L;
            if (type == typeof(double)) return defaults ? 0d : 1.5d;
            if (type == typeof(DateTimeOffset)) return defaults ? default : Instant;
            if (type == typeof(DateTime)) return defaults ? default : Instant.UtcDateTime;
            if (type == typeof(TimeSpan)) return defaults ? TimeSpan.Zero : TimeSpan.FromSeconds(90);
            if (type == typeof(Guid)) return defaults ? Guid.Empty : new Guid("0d3f8f4e-3b7a-4c1e-9a52-6f0e2b1c9d77");
            if (type == typeof(byte[])) return defaults ? (nullable ? null : Array.Empty<byte>()) : new byte[] { 1, 2, 3 };
            if (type.IsEnum)
            {
                var values = Enum.GetValues(type);
                return defaults ? Activator.CreateInstance(type) : values.GetValue(values.Length - 1);
            }
            if (type.IsArray)
            {
                var element = type.GetElementType()!;
                var array = Array.CreateInstance(element, defaults ? 0 : 1);
                if (!defaults) array.SetValue(Create(element, false, depth + 1), 0);
                return array;
            }
            if (type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type))
            {
                var concrete = type.IsInterface ? ConcreteOf(type) : type;
                var collection = Activator.CreateInstance(concrete)!;
                if (defaults || depth > 3) return collection;
                var arguments = concrete.GetGenericArguments();
                if (arguments.Length == 2)
                {
                    concrete.GetMethod("Add", arguments)!.Invoke(collection, [Create(arguments[0], false, depth + 1), Create(arguments[1], false, depth + 1)]);
                }
                else
                {
                    concrete.GetMethod("Add", arguments)!.Invoke(collection, [Create(arguments[0], false, depth + 1)]);
                }
                return collection;
            }
            if (type.IsClass)
            {
                if (defaults && nullable) return null;
                var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
                var instance = constructor.Invoke(constructor.GetParameters()
                    .Select(p => Create(p.ParameterType, defaults, depth + 1, Nullability.Create(p).WriteState == NullabilityState.Nullable)).ToArray());
                foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }))
                {
                    property.SetValue(instance, Create(property.PropertyType, defaults, depth + 1, Nullability.Create(property).WriteState == NullabilityState.Nullable));
                }
                return instance;
            }
            throw new NotSupportedException($"No test value for {type} (add one to StorageSerializerTests.Values).");
        }

        private static Type ConcreteOf(Type type)
        {
            var arguments = type.GetGenericArguments();
            return arguments.Length == 2 ? typeof(Dictionary<,>).MakeGenericType(arguments) : typeof(List<>).MakeGenericType(arguments);
        }
    }
}
