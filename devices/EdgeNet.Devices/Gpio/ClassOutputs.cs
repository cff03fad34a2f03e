using System.Device.Gpio;

namespace EdgeNet.Devices.Gpio;

/// <summary>Drives one output pin per class (LED, buzzer, relay): the pin of the current class high, the others low.</summary>
public sealed class ClassOutputs : IDisposable
{
    readonly GpioController controller;
    readonly Dictionary<int, int> pinOfClass;
    readonly bool ownsController;

    /// <summary>Opens the pins as outputs, all low.</summary>
    /// <param name="controller">The GPIO controller the pins are on.</param>
    /// <param name="pinOfClass">Class index → pin number.</param>
    /// <param name="ownsController">Dispose <paramref name="controller"/> with this object (also when opening a pin fails).</param>
    public ClassOutputs(GpioController controller, IReadOnlyDictionary<int, int> pinOfClass, bool ownsController = false)
    {
        this.controller = controller;
        this.pinOfClass = new(pinOfClass);
        this.ownsController = ownsController;
        try { foreach (var pin in this.pinOfClass.Values) { controller.OpenPin(pin, PinMode.Output); controller.Write(pin, PinValue.Low); } }
        catch { if (ownsController) controller.Dispose(); throw; }
    }

    /// <summary>Sets the pin of <paramref name="classIndex"/> high and the others low (none high for an unknown class).</summary>
    public void Show(int classIndex)
    {
        foreach (var (c, pin) in pinOfClass) controller.Write(pin, c == classIndex ? PinValue.High : PinValue.Low);
    }

    /// <summary>Sets every pin low and closes it (and the controller, if owned).</summary>
    public void Dispose()
    {
        try { foreach (var pin in pinOfClass.Values) { controller.Write(pin, PinValue.Low); controller.ClosePin(pin); } }
        finally { if (ownsController) controller.Dispose(); }
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
    /// <summary>How long a change must hold before it counts.</summary>
    public int DebounceMs { get; }
    /// <summary>Raised once per press (on the polling timer's thread).</summary>
    public event Action? Pressed;

    /// <summary>Opens <paramref name="pin"/> as an input with pull-up and polls it every <paramref name="pollMs"/>.</summary>
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

    /// <summary>Stops polling and closes the pin.</summary>
    public void Dispose() { timer.Dispose(); controller.ClosePin(pin); }
}
