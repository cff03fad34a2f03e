using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>CI runs the suite on arm64 under qemu-user, where ONNX Runtime's native library segfaults and takes the
/// whole run with it; those tiers filter out <c>[Trait("Needs", "OnnxRuntime")]</c>. This finds every test that can
/// reach ONNX Runtime (its IL, and the test assembly's helpers, lambdas and state machines it calls, transitively) and
/// requires the trait on it or its class, so a new ORT test cannot silently take the arm64 tiers down again.</summary>
public class OnnxRuntimeTraitTests
{
    static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    [Fact]
    public void Every_test_that_calls_onnx_runtime_carries_the_trait()
    {
        var assembly = typeof(OnnxRuntimeTraitTests).Assembly;
        var reaches = new Dictionary<MethodBase, bool>();
        var missing = new List<string>();
        int tagged = 0;
        foreach (var type in assembly.GetTypes())
            foreach (var m in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                if (!m.GetCustomAttributes<FactAttribute>().Any() || !ReachesOnnxRuntime(m, reaches, 0)) continue;
                if (HasTrait(m) || HasTrait(type)) tagged++;
                else missing.Add($"{type.Name}.{m.Name}");
            }
        Assert.True(missing.Count == 0, "tests that call ONNX Runtime without [Trait(\"Needs\", \"OnnxRuntime\")]: " + string.Join(", ", missing));
        Assert.True(tagged > 10, $"only {tagged} tests found calling ONNX Runtime: the IL scan is broken");
    }

    /// <summary>The scan itself: a helper two calls deep and a lambda are followed, a test without ORT is not flagged.</summary>
    [Fact]
    public void The_scan_follows_helpers_and_lambdas()
    {
        var reaches = new Dictionary<MethodBase, bool>();
        Assert.True(ReachesOnnxRuntime(typeof(Sample).GetMethod(nameof(Sample.ThroughAHelper))!, reaches, 0));
        Assert.True(ReachesOnnxRuntime(typeof(Sample).GetMethod(nameof(Sample.ThroughALambda))!, reaches, 0));
        Assert.False(ReachesOnnxRuntime(typeof(Sample).GetMethod(nameof(Sample.WithoutOrt))!, reaches, 0));
    }

    static class Sample
    {
        public static void ThroughAHelper() => Helper();
        static void Helper() => OnnxBuilder.RunOrt("m.onnx", [1f], [1]);
        public static Func<int> ThroughALambda() => () => new Microsoft.ML.OnnxRuntime.SessionOptions().IntraOpNumThreads;
        public static int WithoutOrt() => Enumerable.Range(0, 3).Sum();
    }

    static bool HasTrait(MemberInfo m) => m.GetCustomAttributesData().Any(a =>
        a.AttributeType == typeof(TraitAttribute) && a.ConstructorArguments.Count == 2
        && (string?)a.ConstructorArguments[0].Value == "Needs" && (string?)a.ConstructorArguments[1].Value == "OnnxRuntime");

    static bool ReachesOnnxRuntime(MethodBase method, Dictionary<MethodBase, bool> memo, int depth)
    {
        if (memo.TryGetValue(method, out bool known)) return known;
        memo[method] = false;   // a cycle adds nothing
        bool found = false;
        foreach (var callee in Callees(method))
        {
            if (callee.DeclaringType?.Namespace?.StartsWith("Microsoft.ML.OnnxRuntime", StringComparison.Ordinal) == true) { found = true; break; }
            if (callee.Module == method.Module && depth < 32 && ReachesOnnxRuntime(callee, memo, depth + 1)) { found = true; break; }
        }
        return memo[method] = found;
    }

    /// <summary>The methods a method's IL calls, creates, or takes a pointer to (lambdas), plus its async or iterator
    /// state machine's MoveNext.</summary>
    static IEnumerable<MethodBase> Callees(MethodBase method)
    {
        var machine = method.GetCustomAttribute<StateMachineAttribute>()?.StateMachineType;
        if (machine?.GetMethod("MoveNext", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public) is { } moveNext)
            yield return moveNext;
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) yield break;
        Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } t ? t.GetGenericArguments() : null;
        Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (int i = 0; i < il.Length;)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var op = OpCodesByValue[value];
            int operand = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
            if (op.OperandType == OperandType.InlineMethod)
            {
                MethodBase? callee = null;
                try { callee = method.Module.ResolveMethod(BitConverter.ToInt32(il, i), typeArgs, methodArgs); }
                catch (ArgumentException) { }   // a generic context it cannot bind; nothing of ORT's is generic here
                if (callee is not null) yield return callee;
            }
            i += operand;
        }
    }
}
