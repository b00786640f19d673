#include "HostedPlugin.h"

#include "HostContext.h"

// Only the interface declarations: their IIDs are defined once, in JUCE's VST3 host code.
#include <pluginterfaces/vst/ivstaudioprocessor.h>
#include <pluginterfaces/vst/ivstcomponent.h>
#include <pluginterfaces/vst/ivstunits.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <limits>
#include <thread>

#if defined(__linux__)
  #include <dlfcn.h>
#endif

namespace vocalmidi::host
{

namespace
{
juce::AudioChannelSet channelSetFor (int channels)
{
    if (channels <= 0)
        return juce::AudioChannelSet::disabled();

    const auto canonical = juce::AudioChannelSet::canonicalChannelSet (channels);
    return canonical.size() == channels ? canonical : juce::AudioChannelSet::discreteChannels (channels);
}

/** libvocalmidi_alloccount's entry points when it is preloaded, else null. */
struct AllocCounter
{
    void (*arm) (int) = nullptr;
    uint64_t (*count)() = nullptr;
    uint64_t (*countHost)() = nullptr;
    void (*setScope) (const char*) = nullptr;

    static const AllocCounter& get()
    {
        static const AllocCounter counter = []
        {
            AllocCounter c;
           #if defined(__linux__)
            c.arm = reinterpret_cast<void (*) (int)> (dlsym (RTLD_DEFAULT, "vmac_arm"));
            c.count = reinterpret_cast<uint64_t (*)()> (dlsym (RTLD_DEFAULT, "vmac_count"));
            c.countHost = reinterpret_cast<uint64_t (*)()> (dlsym (RTLD_DEFAULT, "vmac_count_host"));
            c.setScope = reinterpret_cast<void (*) (const char*)> (dlsym (RTLD_DEFAULT, "vmac_set_scope"));
           #endif
            if (c.arm == nullptr || c.count == nullptr || c.countHost == nullptr || c.setScope == nullptr)
                c = AllocCounter();
            return c;
        }();
        return counter;
    }
};

juce::String describeLayout (const juce::AudioProcessor::BusesLayout& layout)
{
    const auto main = [] (const juce::Array<juce::AudioChannelSet>& buses)
    {
        return buses.isEmpty() ? 0 : buses.getReference (0).size();
    };
    return juce::String (main (layout.inputBuses)) + " in / " + juce::String (main (layout.outputBuses)) + " out";
}
} // namespace

HostedPlugin::~HostedPlugin()
{
    unload();
}

int HostedPlugin::fail (int code, const juce::String& message)
{
    error = message.toStdString();
    return code;
}

int HostedPlugin::requireLoaded()
{
    return instance != nullptr ? Status::ok : fail (Status::wrongState, "no plugin is loaded");
}

int HostedPlugin::requirePrepared()
{
    if (instance == nullptr)
        return fail (Status::wrongState, "no plugin is loaded");

    return prepared ? Status::ok : fail (Status::wrongState, "the plugin is not prepared (call prepare first)");
}

void HostedPlugin::unload()
{
    if (instance == nullptr)
        return;

    if (prepared)
        instance->releaseResources();

    instance->setPlayHead (nullptr);
    instance.reset();
    prepared = false;
    numIn = numOut = 0;
}

juce::String HostedPlugin::formatName() const
{
    return instance != nullptr ? instance->getPluginDescription().pluginFormatName : juce::String();
}

int HostedPlugin::load (const juce::String& path, const juce::String& which)
{
    auto& context = HostContext::get();
    juce::String why;
    auto found = context.findPlugins (path, why);

    if (found.isEmpty())
        return fail (Status::loadFailed, why);

    const juce::PluginDescription* chosen = nullptr;

    if (which.isNotEmpty())
    {
        for (auto* d : found)
            if (d->name == which || d->fileOrIdentifier == which || d->createIdentifierString() == which)
                chosen = d;

        if (chosen == nullptr)
            for (auto* d : found)
                if (d->name.equalsIgnoreCase (which))
                    chosen = d;
    }
    else if (found.size() == 1)
    {
        chosen = found.getFirst();
    }

    if (chosen == nullptr)
    {
        juce::StringArray names;

        for (auto* d : found)
            names.add (d->name + " <" + d->fileOrIdentifier + ">");

        return fail (Status::loadFailed, (which.isNotEmpty() ? "no plugin named '" + which + "' in " + path
                                                       : path + " holds " + juce::String (found.size())
                                                             + " plugins, pick one")
                                       + ": " + names.joinIntoString (", "));
    }

    unload();
    instance = context.createInstance (*chosen, 48000.0, 512, why);

    if (instance == nullptr)
        return fail (Status::loadFailed, "could not instantiate " + chosen->name + ": "
                                       + (why.isNotEmpty() ? why : juce::String ("no reason given")));

    instance->setPlayHead (&playHead);

    // Heap calls are blamed on the plugin when its binary (inside the bundle) is on the stack.
    if (const auto& counter = AllocCounter::get(); counter.setScope != nullptr)
        counter.setScope (juce::File::isAbsolutePath (path) ? path.toRawUTF8() : "");

    numIn = instance->getMainBusNumInputChannels();
    numOut = instance->getMainBusNumOutputChannels();
    nonRealtime = false;
    isBypassed = false;
    context.pumpMessages (0);
    return Status::ok;
}

int HostedPlugin::parameterCount() const
{
    return instance != nullptr ? instance->getParameters().size() : 0;
}

juce::AudioProcessorParameter* HostedPlugin::parameter (int index) const
{
    if (instance == nullptr)
        return nullptr;

    const auto& params = instance->getParameters();
    return juce::isPositiveAndBelow (index, params.size()) ? params[index] : nullptr;
}

int HostedPlugin::parameterIndex (const juce::String& name) const
{
    if (instance == nullptr)
        return -1;

    const auto& params = instance->getParameters();

    for (int i = 0; i < params.size(); ++i)
        if (params[i]->getName (1024) == name)
            return i;

    for (int i = 0; i < params.size(); ++i)
        if (params[i]->getName (1024).equalsIgnoreCase (name))
            return i;

    return -1;
}

int HostedPlugin::setParameter (int index, float normalised)
{
    auto* p = parameter (index);

    if (p == nullptr)
        return fail (Status::badArgument, "no parameter with index " + juce::String (index));

    if (! (normalised >= 0.0f && normalised <= 1.0f))
        return fail (Status::badArgument, "parameter '" + p->getName (1024) + "': normalised value "
                                           + juce::String (normalised) + " is outside 0..1");

    // setValue on a hosted parameter forwards it to the plugin (its controller now, its
    // processor with the next block); listeners (none of ours) would need the notifying call.
    p->setValue (normalised);
    p->sendValueChangedMessageToListeners (normalised);
    pending[index] = normalised;
    return Status::ok;
}

int HostedPlugin::setParameterText (int index, const juce::String& text)
{
    auto* p = parameter (index);

    if (p == nullptr)
        return fail (Status::badArgument, "no parameter with index " + juce::String (index));

    const auto value = p->getValueForText (text);

    if (! (value >= 0.0f && value <= 1.0f))
        return fail (Status::pluginRefused, "parameter '" + p->getName (1024) + "' does not accept '" + text + "'");

    return setParameter (index, value);
}

int HostedPlugin::applyLayout (int inputChannels, int outputChannels)
{
    auto layout = instance->getBusesLayout();
    const auto before = layout;

    // A plugin without a main bus in a direction (a MIDI effect) simply has 0 channels there.
    // A bus that already has the requested count keeps its own set (an LV2 mono port is a
    // discrete channel, not "mono", and JUCE's LV2 host refuses the canonical one).
    if (! layout.inputBuses.isEmpty() && layout.inputBuses.getReference (0).size() != inputChannels)
        layout.inputBuses.getReference (0) = channelSetFor (inputChannels);

    if (! layout.outputBuses.isEmpty() && layout.outputBuses.getReference (0).size() != outputChannels)
        layout.outputBuses.getReference (0) = channelSetFor (outputChannels);

    if (layout == before)
        return Status::ok;

    if (instance->setBusesLayout (layout))
        return Status::ok;

    // An analyser (audio in, MIDI out) or a MIDI effect has a main bus without channels in
    // one direction: leave that side at 0 rather than refuse the caller's channel count.
    auto fallback = layout;

    if (! before.inputBuses.isEmpty() && before.inputBuses.getReference (0).size() == 0)
        fallback.inputBuses.getReference (0) = before.inputBuses.getReference (0);

    if (! before.outputBuses.isEmpty() && before.outputBuses.getReference (0).size() == 0)
        fallback.outputBuses.getReference (0) = before.outputBuses.getReference (0);

    if (fallback == before || (! (fallback == layout) && instance->setBusesLayout (fallback)))
        return Status::ok;

    return fail (Status::layoutRefused, instance->getName() + " does not accept " + juce::String (inputChannels)
                                         + " in / " + juce::String (outputChannels)
                                         + " out channels (its default is " + describeLayout (before) + ")");
}

int HostedPlugin::prepare (double sampleRate, int maxBlockSize, int inputChannels, int outputChannels)
{
    if (auto rc = requireLoaded(); rc != Status::ok)
        return rc;

    if (! (sampleRate > 0.0) || maxBlockSize < 1 || inputChannels < 0 || outputChannels < 0)
        return fail (Status::badArgument, "prepare needs a sample rate > 0, a block size >= 1 and channel counts >= 0");

    if (prepared)
    {
        instance->releaseResources();
        prepared = false;
    }

    if (auto rc = applyLayout (inputChannels, outputChannels); rc != Status::ok)
        return rc;

    rate = sampleRate;
    maxBlock = maxBlockSize;
    playHead.setSampleRate (sampleRate);
    prepareInstance();

    numIn = instance->getMainBusNumInputChannels();
    numOut = instance->getMainBusNumOutputChannels();
    midi.ensureSize (64 * 1024);
    outEvents.reserve (4096);
    outBytes.reserve (4 * 4096);
    prepared = true;
    HostContext::get().pumpMessages (0);
    return Status::ok;
}

void HostedPlugin::prepareInstance()
{
    instance->setNonRealtime (nonRealtime);
    instance->setRateAndBufferSizeDetails (rate, maxBlock);
    instance->prepareToPlay (rate, maxBlock);
    const auto total = juce::jmax (1, instance->getTotalNumInputChannels(), instance->getTotalNumOutputChannels());
    buffer.setSize (total, juce::jmax (maxBlock, blockLimit));
    refreshLatency();

    // prepareToPlay may have rebuilt the plugin from its ports (LV2): set again what was set.
    for (const auto& [index, value] : pending)
        if (auto* p = parameter (index))
            p->setValue (value);
}

void HostedPlugin::flushPendingParameters()
{
    if (pending.empty() || ! prepared || formatName() != "LV2")
        return;

    // LV2 allows run() with 0 samples: the plugin takes its control values and nothing else.
    buffer.setSize (buffer.getNumChannels(), 0, false, false, true);
    midi.clear();
    instance->processBlock (buffer, midi);
    midi.clear();
    pending.clear();
}

int HostedPlugin::setNonRealtime (bool shouldBeNonRealtime)
{
    if (auto rc = requireLoaded(); rc != Status::ok)
        return rc;

    if (shouldBeNonRealtime == nonRealtime)
        return Status::ok;

    nonRealtime = shouldBeNonRealtime;

    if (! prepared)
        return Status::ok;

    // A VST3 plugin learns the process mode in setupProcessing, i.e. when it is prepared.
    flushPendingParameters();
    instance->releaseResources();
    prepareInstance();
    HostContext::get().pumpMessages (0);
    return Status::ok;
}

int HostedPlugin::process (const float* input, float* output, int64_t numSamples,
                           const int32_t* blockSizes, int numBlockSizes,
                           const MidiEvent* midiIn, int numMidiIn, const uint8_t* midiInBytes)
{
    // No exception may unwind into the caller's block loop (or interpreter) from a plugin.
    try
    {
        return processBlocks (input, output, numSamples, blockSizes, numBlockSizes, midiIn, numMidiIn, midiInBytes);
    }
    catch (const std::exception& e)
    {
        return fail (Status::pluginRefused, juce::String ("the plugin threw while processing: ") + e.what());
    }
    catch (...)
    {
        return fail (Status::pluginRefused, "the plugin threw while processing");
    }
}

int HostedPlugin::processBlocks (const float* input, float* output, int64_t numSamples,
                                 const int32_t* blockSizes, int numBlockSizes,
                                 const MidiEvent* midiIn, int numMidiIn, const uint8_t* midiInBytes)
{
    if (auto rc = requirePrepared(); rc != Status::ok)
        return rc;

    outEvents.clear();
    outBytes.clear();

    if (numSamples < 0)
        return fail (Status::badArgument, "negative sample count");

    if (numSamples > 0 && ((numIn > 0 && input == nullptr) || (numOut > 0 && output == nullptr)))
        return fail (Status::badArgument, "missing input or output buffer");

    if (blockSizes == nullptr || numBlockSizes <= 0)
    {
        blockSizes = &maxBlock;
        numBlockSizes = 1;
    }

    const auto largest = juce::jmax (maxBlock, blockLimit);

    for (int i = 0; i < numBlockSizes; ++i)
        if (blockSizes[i] < 1 || blockSizes[i] > largest)
            return fail (Status::badArgument, "block size " + juce::String (blockSizes[i]) + " is outside 1.."
                                               + juce::String (largest) + " (the prepared maximum)");

    if (numMidiIn > 0 && (midiIn == nullptr || midiInBytes == nullptr))
        return fail (Status::badArgument, "MIDI input events without their bytes");

    for (int i = 0; i < numMidiIn; ++i)
    {
        const auto& e = midiIn[i];

        if (e.sample < 0 || e.sample >= juce::jmax<int64_t> (1, numSamples) || e.size <= 0 || e.offset < 0
            || (i > 0 && e.sample < midiIn[i - 1].sample))
            return fail (Status::badArgument, "MIDI input event " + juce::String (i)
                                               + " is out of order, outside the audio, or empty");
    }

    const auto totalChannels = buffer.getNumChannels();
    int64_t pos = 0;
    int blockIndex = 0, midiIndex = 0;
    // Counted live only: offline, a plugin may legitimately do its heavy work (and allocate)
    // on the processing thread, and attributing every call costs a stack walk.
    static const AllocCounter none;
    const auto& counter = nonRealtime ? none : AllocCounter::get();
    allocCalls = allocBlocks = allocHostCalls = 0;
    const auto started = std::chrono::steady_clock::now();

    while (pos < numSamples)
    {
        const auto n = (int) juce::jmin<int64_t> (blockSizes[blockIndex], numSamples - pos);
        blockIndex = (blockIndex + 1) % numBlockSizes;

        // Same allocation, shorter view: setSize with avoidReallocating never allocates here.
        buffer.setSize (totalChannels, n, false, false, true);

        for (int ch = 0; ch < totalChannels; ++ch)
        {
            if (ch < numIn)
                buffer.copyFrom (ch, 0, input + (size_t) ch * (size_t) numSamples + (size_t) pos, n);
            else
                buffer.clear (ch, 0, n);
        }

        midi.clear();

        while (midiIndex < numMidiIn && midiIn[midiIndex].sample < pos + n)
        {
            const auto& e = midiIn[midiIndex++];
            midi.addEvent (midiInBytes + e.offset, e.size, (int) (e.sample - pos));
        }

        const auto before = counter.count != nullptr ? counter.count() : 0;
        const auto beforeHost = counter.countHost != nullptr ? counter.countHost() : 0;

        if (counter.arm != nullptr)
            counter.arm (1);

        if (isBypassed)
            instance->processBlockBypassed (buffer, midi);
        else
            instance->processBlock (buffer, midi);

        if (counter.arm != nullptr)
        {
            counter.arm (0);
            const auto calls = (int64_t) (counter.count() - before);
            allocCalls += calls;
            allocBlocks += calls > 0 ? 1 : 0;
            allocHostCalls += (int64_t) (counter.countHost() - beforeHost);
        }

        for (const auto meta : midi)
        {
            outEvents.push_back ({ pos + meta.samplePosition, (int32_t) outBytes.size(), (int32_t) meta.numBytes });
            outBytes.insert (outBytes.end(), meta.data, meta.data + meta.numBytes);
        }

        for (int ch = 0; ch < numOut; ++ch)
            std::memcpy (output + (size_t) ch * (size_t) numSamples + (size_t) pos,
                         buffer.getReadPointer (ch), sizeof (float) * (size_t) n);

        playHead.advance (n);
        pos += n;
        pending.clear();

        // A real-time host's audio callback comes once per block period.
        if (pacing > 0.0)
            std::this_thread::sleep_until (started + std::chrono::duration<double> ((double) pos / (rate * pacing)));
    }

    return (int) outEvents.size();
}

namespace
{
/** Asks a VST3 plugin's IAudioProcessor for its latency now. JUCE's VST3 host reads it
    before activating the plugin (i.e. before the plugin's prepareToPlay has run) and later
    only when a restartComponent message arrives, which a JUCE plugin sends from its own
    message thread: without this the latency after prepare would be stale for a while. */
struct Vst3LatencyReader final : juce::ExtensionsVisitor
{
    void visitVST3Client (const VST3Client& client) override
    {
        auto* component = client.getIComponentPtr();
        Steinberg::Vst::IAudioProcessor* processor = nullptr;

        if (component != nullptr
            && component->queryInterface (Steinberg::Vst::IAudioProcessor::iid, (void**) &processor) == Steinberg::kResultOk
            && processor != nullptr)
        {
            latency = (int) processor->getLatencySamples();
            processor->release();
        }
    }

    int latency = -1;
};
} // namespace

void HostedPlugin::refreshLatency()
{
    if (instance == nullptr)
        return;

    Vst3LatencyReader reader;
    instance->getExtensions (reader);

    if (reader.latency >= 0 && reader.latency != instance->getLatencySamples())
        instance->setLatencySamples (reader.latency);
}

int HostedPlugin::setBlockLimit (int samples)
{
    if (samples < 0)
        return fail (Status::badArgument, "negative block limit");

    blockLimit = samples;

    if (prepared)
        buffer.setSize (buffer.getNumChannels(), juce::jmax (maxBlock, blockLimit));

    return Status::ok;
}

bool HostedPlugin::allocationCounts (int64_t& calls, int64_t& blocks, int64_t& hostCalls) const noexcept
{
    calls = allocCalls;
    blocks = allocBlocks;
    hostCalls = allocHostCalls;
    return AllocCounter::get().count != nullptr;
}

int HostedPlugin::latencySamples()
{
    refreshLatency();
    return instance != nullptr ? instance->getLatencySamples() : 0;
}

int HostedPlugin::reset()
{
    if (auto rc = requireLoaded(); rc != Status::ok)
        return rc;

    instance->reset();
    return Status::ok;
}

int HostedPlugin::release()
{
    if (auto rc = requireLoaded(); rc != Status::ok)
        return rc;

    if (prepared)
        instance->releaseResources();

    prepared = false;
    return Status::ok;
}

int64_t HostedPlugin::saveState()
{
    if (auto rc = requireLoaded(); rc != Status::ok)
        return rc;

    if (! pending.empty() && formatName() == "LV2")
    {
        if (prepared)
        {
            flushPendingParameters();
        }
        else
        {
            // The ports only learn new values in a processing cycle: run an empty one.
            rate = rate > 0.0 ? rate : 48000.0;
            maxBlock = maxBlock > 0 ? maxBlock : 512;
            prepareInstance();
            prepared = true;
            flushPendingParameters();
            instance->releaseResources();
            prepared = false;
        }
    }

    state.reset();
    instance->getStateInformation (state);
    return (int64_t) state.getSize();
}

int HostedPlugin::loadState (const void* data, int64_t size)
{
    if (auto rc = requireLoaded(); rc != Status::ok)
        return rc;

    if (data == nullptr || size <= 0 || size > std::numeric_limits<int>::max())
        return fail (Status::badArgument, "empty or oversized state");

    // JUCE's hosts silently ignore a state they cannot read; check the wrapping first so a
    // wrong file is an error rather than a no-op.
    const auto format = formatName();

    if (format == "VST3" && juce::AudioProcessor::getXmlFromBinary (data, (int) size) == nullptr)
        return fail (Status::pluginRefused, "not a VST3 state saved by this host (" + juce::String (size) + " bytes)");

    if (format == "LV2"
        && ! juce::String::fromUTF8 (static_cast<const char*> (data), (int) size)
                 .contains ("<" + instance->getPluginDescription().fileOrIdentifier + ">"))
        return fail (Status::pluginRefused, "not an LV2 state of " + instance->getName() + " saved by this host ("
                                         + juce::String (size) + " bytes)");

    instance->setStateInformation (data, (int) size);
    pending.clear();
    HostContext::get().pumpMessages (0);
    return Status::ok;
}

int HostedPlugin::probeEditor (int& width, int& height)
{
    return showEditor (-1, width, height);
}

int HostedPlugin::showEditor (int milliseconds, int& width, int& height)
{
    if (auto rc = requireLoaded(); rc != Status::ok)
        return rc;

    if (! instance->hasEditor())
        return fail (Status::pluginRefused, instance->getName() + " has no editor");

    std::unique_ptr<juce::AudioProcessorEditor> editor (instance->createEditorIfNeeded());

    if (editor == nullptr)
        return fail (Status::pluginRefused, instance->getName() + " did not create its editor");

    if (milliseconds >= 0)
    {
        editor->setTopLeftPosition (0, 0);
        editor->addToDesktop (0);
        editor->setVisible (true);
    }

    HostContext::get().pumpMessages (juce::jmax (50, milliseconds));
    width = editor->getWidth();
    height = editor->getHeight();
    editor.reset();
    HostContext::get().pumpMessages (0);
    return Status::ok;
}

juce::StringArray HostedPlugin::programNames() const
{
    juce::StringArray names;

    if (instance == nullptr)
        return names;

    struct Visitor : juce::ExtensionsVisitor
    {
        void visitVST3Client (const VST3Client& client) override { component = client.getIComponentPtr(); }
        Steinberg::Vst::IComponent* component = nullptr;
    } visitor;

    instance->getExtensions (visitor);

    if (visitor.component == nullptr)
    {
        for (int i = 0; i < instance->getNumPrograms(); ++i)
            names.add (instance->getProgramName (i));

        return names;
    }

    Steinberg::Vst::IUnitInfo* units = nullptr;

    if (visitor.component->queryInterface (Steinberg::Vst::IUnitInfo::iid, (void**) &units) != Steinberg::kResultOk
        || units == nullptr)
        return names;

    for (Steinberg::int32 list = 0; list < units->getProgramListCount(); ++list)
    {
        Steinberg::Vst::ProgramListInfo info {};

        if (units->getProgramListInfo (list, info) != Steinberg::kResultOk)
            continue;

        for (Steinberg::int32 k = 0; k < info.programCount; ++k)
        {
            Steinberg::Vst::String128 name {};

            if (units->getProgramName (info.id, k, name) == Steinberg::kResultOk)
                names.add (juce::String (juce::CharPointer_UTF16 (
                    reinterpret_cast<const juce::CharPointer_UTF16::CharType*> (name))));
        }
    }

    units->release();
    return names;
}

} // namespace vocalmidi::host
