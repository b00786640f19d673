#pragma once

#include <juce_audio_processors/juce_audio_processors.h>

#include <memory>
#include <mutex>

namespace vocalmidi::host
{

/** Process-wide JUCE state of the host library: JUCE's initialisation, the plugin format
    manager (creating the LV2 format scans the LV2 folders, so it is done once), and the
    message loop that we run by hand because the library has no event loop of its own.

    Thread: control calls only; they hold controlLock() and call becomeMessageThread(). */
class HostContext
{
public:
    static HostContext& get();

    /** Serialises control calls of all hosts: JUCE has one message thread per process. */
    std::recursive_mutex& controlLock() noexcept { return mutex; }

    /** Make the calling thread JUCE's message thread; plugins must be created, set up and
        asked for their state there, and a message-thread call must never wait for itself. */
    void becomeMessageThread();

    /** Dispatch pending messages (async updates, timers) for up to `milliseconds`;
        returns how many. */
    int pumpMessages (int milliseconds);

    /** Every plugin `path` holds (VST3 bundle, LV2 bundle or LV2 URI); sets `error` when none. */
    juce::OwnedArray<juce::PluginDescription> findPlugins (const juce::String& path, juce::String& error);

    std::unique_ptr<juce::AudioPluginInstance> createInstance (const juce::PluginDescription& description,
                                                               double sampleRate, int blockSize,
                                                               juce::String& error);

    ~HostContext();

private:
    HostContext();

    juce::OwnedArray<juce::PluginDescription> findLv2InBundle (const juce::File& bundle, juce::String& error);
    juce::AudioPluginFormat* formatNamed (const juce::String& name) const;

    std::recursive_mutex mutex;
    std::unique_ptr<juce::AudioPluginFormatManager> formats;
};

} // namespace vocalmidi::host
