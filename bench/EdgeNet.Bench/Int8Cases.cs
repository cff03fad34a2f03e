namespace EdgeNet.Bench;

/// <summary>ORT's own int8 models, compared once EdgeNet imports them (the int8 issue); empty until then.</summary>
public static class Int8Cases
{
    public static IEnumerable<Compare.Case> All(string shared) => [];
}
