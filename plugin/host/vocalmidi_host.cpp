// The C API: thin wrappers that take the right locks, make the caller the message thread
// for control calls, and turn C++ exceptions into error codes (none may cross into C).
#include "vocalmidi_host.h"

#include "HostContext.h"
#include "HostedPlugin.h"

#include <mutex>
#include <string>

using vocalmidi::host::HostContext;
using vocalmidi::host::HostedPlugin;

struct VmhHost
{
    HostedPlugin plugin;
    std::mutex processLock; // one call at a time per host, process included
};

namespace
{
thread_local std::string globalError;

int copyString (const juce::String& text, char* out, int capacity)
{
    const auto utf8 = text.toStdString();

    if (out != nullptr && capacity > 0)
    {
        const auto n = juce::jmin ((size_t) capacity - 1, utf8.size());
        std::memcpy (out, utf8.data(), n);
        out[n] = '\0';
    }

    return (int) utf8.size();
}

/** Runs a control call: global control lock, host lock, message thread, no exceptions out. */
template <typename Fn>
auto control (VmhHost* host, Fn&& fn) -> decltype (fn (host->plugin))
{
    using Result = decltype (fn (host->plugin));

    if (host == nullptr)
    {
        globalError = "null host";
        return (Result) VMH_ERR_ARGUMENT;
    }

    try
    {
        auto& context = HostContext::get();
        const std::lock_guard<std::recursive_mutex> controlLock (context.controlLock());
        const std::lock_guard<std::mutex> hostLock (host->processLock);
        context.becomeMessageThread();
        return fn (host->plugin);
    }
    catch (const std::exception& e)
    {
        return (Result) host->plugin.fail (VMH_ERR_PLUGIN, juce::String ("the plugin threw: ") + e.what());
    }
    catch (...)
    {
        return (Result) host->plugin.fail (VMH_ERR_PLUGIN, "the plugin threw an unknown exception");
    }
}

template <typename Fn>
int withParameter (VmhHost* host, int index, Fn&& fn)
{
    return control (host, [&] (HostedPlugin& p) -> int
    {
        if (! p.isLoaded())
            return p.fail (VMH_ERR_STATE, "no plugin is loaded");

        auto* param = p.parameter (index);

        if (param == nullptr)
            return p.fail (VMH_ERR_ARGUMENT, "no parameter with index " + juce::String (index));

        return fn (p, *param);
    });
}
} // namespace

extern "C"
{

int vmh_api_version (void) { return VMH_API_VERSION; }

const char* vmh_last_error (const VmhHost* host)
{
    return host != nullptr ? host->plugin.lastError().c_str() : globalError.c_str();
}

VmhHost* vmh_create (void)
{
    try
    {
        auto& context = HostContext::get();
        const std::lock_guard<std::recursive_mutex> lock (context.controlLock());
        context.becomeMessageThread();
        return new VmhHost();
    }
    catch (const std::exception& e)
    {
        globalError = std::string ("could not start the JUCE host: ") + e.what();
        return nullptr;
    }
}

void vmh_destroy (VmhHost* host)
{
    if (host == nullptr)
        return;

    auto& context = HostContext::get();
    const std::lock_guard<std::recursive_mutex> lock (context.controlLock());
    context.becomeMessageThread();

    try
    {
        delete host;
    }
    catch (...)
    {
        // A plugin that throws from its destructor: nothing more we can do for it.
    }

    context.pumpMessages (0);
}

int vmh_list_plugins (const char* path, char* out, int capacity)
{
    if (path == nullptr)
    {
        globalError = "null path";
        return VMH_ERR_ARGUMENT;
    }

    try
    {
        auto& context = HostContext::get();
        const std::lock_guard<std::recursive_mutex> lock (context.controlLock());
        juce::String why;
        const auto found = context.findPlugins (juce::String::fromUTF8 (path), why);

        if (found.isEmpty())
        {
            globalError = why.toStdString();
            return VMH_ERR_LOAD;
        }

        juce::StringArray lines;

        for (auto* d : found)
            lines.add (d->pluginFormatName + "\t" + d->fileOrIdentifier + "\t" + d->name);

        return copyString (lines.joinIntoString ("\n"), out, capacity);
    }
    catch (const std::exception& e)
    {
        globalError = std::string ("scanning failed: ") + e.what();
        return VMH_ERR_LOAD;
    }
}

int vmh_load (VmhHost* host, const char* path, const char* which)
{
    return control (host, [&] (HostedPlugin& p)
    {
        if (path == nullptr)
            return p.fail (VMH_ERR_ARGUMENT, "null path");

        return p.load (juce::String::fromUTF8 (path), which != nullptr ? juce::String::fromUTF8 (which) : juce::String());
    });
}

int vmh_plugin_name (VmhHost* host, char* out, int capacity)
{
    return control (host, [&] (HostedPlugin& p)
    {
        return p.isLoaded() ? copyString (p.plugin()->getName(), out, capacity)
                            : p.fail (VMH_ERR_STATE, "no plugin is loaded");
    });
}

int vmh_plugin_format (VmhHost* host, char* out, int capacity)
{
    return control (host, [&] (HostedPlugin& p)
    {
        return p.isLoaded() ? copyString (p.formatName(), out, capacity)
                            : p.fail (VMH_ERR_STATE, "no plugin is loaded");
    });
}

int vmh_program_count (VmhHost* host)
{
    return control (host, [&] (HostedPlugin& p)
    {
        return p.isLoaded() ? p.programNames().size()
                            : p.fail (VMH_ERR_STATE, "no plugin is loaded");
    });
}

int vmh_program_name (VmhHost* host, int index, char* out, int capacity)
{
    return control (host, [&] (HostedPlugin& p)
    {
        if (! p.isLoaded())
            return p.fail (VMH_ERR_STATE, "no plugin is loaded");

        const auto names = p.programNames();

        if (! juce::isPositiveAndBelow (index, names.size()))
            return p.fail (VMH_ERR_ARGUMENT, "no program " + juce::String (index));

        return copyString (names[index], out, capacity);
    });
}

int vmh_accepts_midi (VmhHost* host)
{
    return control (host, [&] (HostedPlugin& p)
    {
        return p.isLoaded() ? (p.plugin()->acceptsMidi() ? 1 : 0) : p.fail (VMH_ERR_STATE, "no plugin is loaded");
    });
}

int vmh_produces_midi (VmhHost* host)
{
    return control (host, [&] (HostedPlugin& p)
    {
        return p.isLoaded() ? (p.plugin()->producesMidi() ? 1 : 0) : p.fail (VMH_ERR_STATE, "no plugin is loaded");
    });
}

int vmh_parameter_count (VmhHost* host)
{
    return control (host, [&] (HostedPlugin& p)
    {
        return p.isLoaded() ? p.parameterCount() : p.fail (VMH_ERR_STATE, "no plugin is loaded");
    });
}

int vmh_parameter_index (VmhHost* host, const char* name)
{
    return control (host, [&] (HostedPlugin& p)
    {
        if (! p.isLoaded())
            return p.fail (VMH_ERR_STATE, "no plugin is loaded");

        const auto n = juce::String::fromUTF8 (name != nullptr ? name : "");
        const auto index = p.parameterIndex (n);
        return index >= 0 ? index : p.fail (VMH_ERR_ARGUMENT, "no parameter named '" + n + "'");
    });
}

int vmh_parameter_name (VmhHost* host, int index, char* out, int capacity)
{
    return withParameter (host, index, [&] (HostedPlugin&, juce::AudioProcessorParameter& param)
    {
        return copyString (param.getName (1024), out, capacity);
    });
}

int vmh_parameter_label (VmhHost* host, int index, char* out, int capacity)
{
    return withParameter (host, index, [&] (HostedPlugin&, juce::AudioProcessorParameter& param)
    {
        return copyString (param.getLabel(), out, capacity);
    });
}

int vmh_parameter_get (VmhHost* host, int index, float* value)
{
    return withParameter (host, index, [&] (HostedPlugin& p, juce::AudioProcessorParameter& param)
    {
        if (value == nullptr)
            return p.fail (VMH_ERR_ARGUMENT, "null value pointer");

        *value = param.getValue();
        return (int) VMH_OK;
    });
}

int vmh_parameter_default (VmhHost* host, int index, float* value)
{
    return withParameter (host, index, [&] (HostedPlugin& p, juce::AudioProcessorParameter& param)
    {
        if (value == nullptr)
            return p.fail (VMH_ERR_ARGUMENT, "null value pointer");

        *value = param.getDefaultValue();
        return (int) VMH_OK;
    });
}

int vmh_parameter_num_steps (VmhHost* host, int index)
{
    return withParameter (host, index, [&] (HostedPlugin&, juce::AudioProcessorParameter& param)
    {
        return param.getNumSteps();
    });
}

int vmh_parameter_text (VmhHost* host, int index, float value, char* out, int capacity)
{
    return withParameter (host, index, [&] (HostedPlugin& p, juce::AudioProcessorParameter& param)
    {
        if (value > 1.0f)
            return p.fail (VMH_ERR_ARGUMENT, "normalised value " + juce::String (value) + " is above 1");

        return copyString (value < 0.0f ? param.getCurrentValueAsText() : param.getText (value, 1024), out, capacity);
    });
}

int vmh_parameter_set (VmhHost* host, int index, float value)
{
    return control (host, [&] (HostedPlugin& p)
    {
        return p.isLoaded() ? p.setParameter (index, value) : p.fail (VMH_ERR_STATE, "no plugin is loaded");
    });
}

int vmh_parameter_set_text (VmhHost* host, int index, const char* text)
{
    return control (host, [&] (HostedPlugin& p)
    {
        if (! p.isLoaded())
            return p.fail (VMH_ERR_STATE, "no plugin is loaded");

        if (text == nullptr)
            return p.fail (VMH_ERR_ARGUMENT, "null text");

        return p.setParameterText (index, juce::String::fromUTF8 (text));
    });
}

int vmh_prepare (VmhHost* host, double sample_rate, int max_block_size, int input_channels, int output_channels)
{
    return control (host, [&] (HostedPlugin& p)
    {
        return p.prepare (sample_rate, max_block_size, input_channels, output_channels);
    });
}

int vmh_input_channels (VmhHost* host)
{
    return control (host, [&] (HostedPlugin& p) { return p.inputChannels(); });
}

int vmh_output_channels (VmhHost* host)
{
    return control (host, [&] (HostedPlugin& p) { return p.outputChannels(); });
}

int vmh_set_non_realtime (VmhHost* host, int non_realtime)
{
    return control (host, [&] (HostedPlugin& p) { return p.setNonRealtime (non_realtime != 0); });
}

int vmh_set_bypassed (VmhHost* host, int bypassed)
{
    return control (host, [&] (HostedPlugin& p)
    {
        p.setBypassed (bypassed != 0);
        return (int) VMH_OK;
    });
}

int vmh_set_transport (VmhHost* host, int playing, int64_t sample_position, double bpm)
{
    return control (host, [&] (HostedPlugin& p)
    {
        p.transport().set (playing != 0, sample_position, bpm);
        return (int) VMH_OK;
    });
}

int64_t vmh_transport_position (VmhHost* host)
{
    return control (host, [&] (HostedPlugin& p) { return p.transport().position(); });
}

int vmh_process (VmhHost* host, const float* input, float* output, int64_t num_samples,
                 const int32_t* block_sizes, int num_block_sizes,
                 const VmhMidiEvent* midi_in, int num_midi_in, const uint8_t* midi_in_bytes)
{
    if (host == nullptr)
    {
        globalError = "null host";
        return VMH_ERR_ARGUMENT;
    }

    // Not a control call: only this host's lock, so hosts can run on threads of their own.
    const std::lock_guard<std::mutex> hostLock (host->processLock);

    try
    {
        return host->plugin.process (input, output, num_samples, block_sizes, num_block_sizes,
                                     midi_in, num_midi_in, midi_in_bytes);
    }
    catch (const std::exception& e)
    {
        return host->plugin.fail (VMH_ERR_PLUGIN, juce::String ("the plugin threw while processing: ") + e.what());
    }
    catch (...)
    {
        return host->plugin.fail (VMH_ERR_PLUGIN, "the plugin threw while processing");
    }
}

int vmh_set_pacing (VmhHost* host, double speed)
{
    return control (host, [&] (HostedPlugin& p)
    {
        if (! (speed >= 0.0))
            return p.fail (VMH_ERR_ARGUMENT, "pacing speed must be >= 0");

        p.setPacing (speed);
        return (int) VMH_OK;
    });
}

int vmh_set_block_limit (VmhHost* host, int max_block_size)
{
    return control (host, [&] (HostedPlugin& p) { return p.setBlockLimit (max_block_size); });
}

int vmh_process_allocations (VmhHost* host, int64_t* calls, int64_t* blocks, int64_t* host_calls)
{
    return control (host, [&] (HostedPlugin& p)
    {
        if (calls == nullptr || blocks == nullptr || host_calls == nullptr)
            return p.fail (VMH_ERR_ARGUMENT, "null output pointer");

        return p.allocationCounts (*calls, *blocks, *host_calls)
                   ? (int) VMH_OK
                   : p.fail (VMH_ERR_STATE, "heap calls are not counted: preload libvocalmidi_alloccount "
                                            "(LD_PRELOAD) to count them");
    });
}

const VmhMidiEvent* vmh_midi_out_events (VmhHost* host)
{
    return host != nullptr ? host->plugin.midiOutEvents().data() : nullptr;
}

const uint8_t* vmh_midi_out_bytes (VmhHost* host)
{
    return host != nullptr ? host->plugin.midiOutBytes().data() : nullptr;
}

int vmh_midi_out_count (VmhHost* host)
{
    return host != nullptr ? (int) host->plugin.midiOutEvents().size() : 0;
}

int vmh_latency_samples (VmhHost* host)
{
    return control (host, [&] (HostedPlugin& p)
    {
        if (! p.isLoaded())
            return p.fail (VMH_ERR_STATE, "no plugin is loaded");

        // A plugin may announce a new latency from its own thread; that reaches the hosted
        // instance as a message.
        HostContext::get().pumpMessages (0);
        return p.latencySamples();
    });
}

int vmh_tail_seconds (VmhHost* host, double* seconds)
{
    return control (host, [&] (HostedPlugin& p)
    {
        if (! p.isLoaded())
            return p.fail (VMH_ERR_STATE, "no plugin is loaded");

        if (seconds == nullptr)
            return p.fail (VMH_ERR_ARGUMENT, "null pointer");

        *seconds = p.plugin()->getTailLengthSeconds();
        return (int) VMH_OK;
    });
}

int vmh_reset (VmhHost* host)
{
    return control (host, [&] (HostedPlugin& p) { return p.reset(); });
}

int vmh_release (VmhHost* host)
{
    return control (host, [&] (HostedPlugin& p) { return p.release(); });
}

int64_t vmh_state_save (VmhHost* host)
{
    return control (host, [&] (HostedPlugin& p) { return p.saveState(); });
}

int vmh_state_copy (VmhHost* host, uint8_t* out, int64_t capacity)
{
    return control (host, [&] (HostedPlugin& p)
    {
        const auto& state = p.savedState();

        if (out == nullptr || capacity < (int64_t) state.getSize())
            return p.fail (VMH_ERR_ARGUMENT, "state buffer too small");

        std::memcpy (out, state.getData(), state.getSize());
        return (int) VMH_OK;
    });
}

int vmh_state_load (VmhHost* host, const uint8_t* data, int64_t size)
{
    return control (host, [&] (HostedPlugin& p) { return p.loadState (data, size); });
}

int vmh_pump_messages (int milliseconds)
{
    try
    {
        auto& context = HostContext::get();
        const std::lock_guard<std::recursive_mutex> lock (context.controlLock());
        return context.pumpMessages (milliseconds);
    }
    catch (...)
    {
        globalError = "a message handler threw";
        return VMH_ERR_PLUGIN;
    }
}

int vmh_editor_show (VmhHost* host, int milliseconds, int* width, int* height)
{
    return control (host, [&] (HostedPlugin& p)
    {
        int w = 0, h = 0;
        const auto rc = p.showEditor (juce::jmax (0, milliseconds), w, h);

        if (width != nullptr)
            *width = w;

        if (height != nullptr)
            *height = h;

        return rc;
    });
}

int vmh_editor_probe (VmhHost* host, int* width, int* height)
{
    return control (host, [&] (HostedPlugin& p)
    {
        int w = 0, h = 0;
        const auto rc = p.probeEditor (w, h);

        if (width != nullptr)
            *width = w;

        if (height != nullptr)
            *height = h;

        return rc;
    });
}

} // extern "C"
