using System.Device.Gpio;

namespace EdgeNet.Devices.Gpio;

/// <summary>Drives one output pin per class (LED, buzzer, relay): the pin of the current class high, the others low.</summary>
public sealed class ClassOutputs : IDisposable
{
    readonly GpioController controller;
    readonly Dictionary<int, int> pinOfClass;

    public ClassOutputs(GpioController controller, IReadOnlyDictionary<int, int> pinOfClass)
    {
        this.controller = controller;
        this.pinOfClass = new(pinOfClass);
        foreach (var pin in this.pinOfClass.Values) { controller.OpenPin(pin, PinMode.Output); controller.Write(pin, PinValue.Low); }
    }

    public void Show(int classIndex)
    {
        foreach (var (c, pin) in pinOfClass) controller.Write(pin, c == classIndex ? PinValue.High : PinValue.Low);
    }

    public void Dispose()
    {
        foreach (var pin in pinOfClass.Values) { controller.Write(pin, PinValue.Low); controller.ClosePin(pin); }
    }
}

/// <summary>A push button on an input pin (pull-up, pressed = low), debounced: a change counts only after it has held
/// for <see cref="DebounceMs"/>; <see cref="Pressed"/> fires once per press.</summary>
public sealed class DebouncedButton : IDisposable
{
    readonly GpioController controller;
    readonly int pin;
    readonly Timer timer;
    PinValue stable = PinValue.High, candidate = PinValue.High;
    long since;
    public int DebounceMs { get; }
    public event Action? Pressed;

    public DebouncedButton(GpioController controller, int pin, int debounceMs = 30, int pollMs = 5)
    {
        this.controller = controller; this.pin = pin; DebounceMs = debounceMs;
        controller.OpenPin(pin, PinMode.InputPullUp);
        timer = new Timer(_ => Poll(Environment.TickCount64), null, pollMs, pollMs);
    }

    /// <summary>One poll at time <paramref name="nowMs"/> (public so tests can drive time).</summary>
    public void Poll(long nowMs)
    {
        var v = controller.Read(pin);
        if (v != candidate) { candidate = v; since = nowMs; return; }
        if (v != stable && nowMs - since >= DebounceMs)
        {
            stable = v;
            if (v == PinValue.Low) Pressed?.Invoke();
        }
    }

    public void Dispose() { timer.Dispose(); controller.ClosePin(pin); }
}
