#include "HostContext.h"

#include <lilv/lilv.h>

namespace juce
{
// JUCE's own "run one message" primitive (juce_events, Linux and Windows). It is what
// MessageManager::runDispatchLoopUntil uses; we call it directly because the shared JUCE
// options switch modal loops off, and because the library has no loop of its own to run.
bool dispatchNextMessageOnSystemQueue (bool returnIfNoPendingMessages);
} // namespace juce

namespace vocalmidi::host
{

namespace
{
bool looksLikeUri (const juce::String& s)
{
    return s.contains ("://") || s.startsWith ("urn:");
}
} // namespace

HostContext& HostContext::get()
{
    // Never destroyed before exit; JUCE itself stays initialised for the process's life
    // because hosted plugins may keep JUCE objects alive until they are unloaded.
    static HostContext context;
    return context;
}

HostContext::HostContext()
{
    juce::initialiseJuce_GUI();
    becomeMessageThread();
}

HostContext::~HostContext()
{
    // The LV2 format deletes the temporary bundles it wrote on construction.
    formats.reset();
}

void HostContext::becomeMessageThread()
{
    auto* mm = juce::MessageManager::getInstance();

    if (! mm->isThisTheMessageThread())
        mm->setCurrentThreadAsMessageThread();
}

int HostContext::pumpMessages (int milliseconds)
{
    becomeMessageThread();
    int count = 0;
   #if JUCE_LINUX || JUCE_BSD || JUCE_WINDOWS
    const auto deadline = juce::Time::getMillisecondCounterHiRes() + juce::jmax (0, milliseconds);

    for (;;)
    {
        while (juce::dispatchNextMessageOnSystemQueue (true))
            ++count;

        if (juce::Time::getMillisecondCounterHiRes() >= deadline)
            break;

        juce::Thread::sleep (1);
    }
   #else
    juce::ignoreUnused (milliseconds);
   #endif
    return count;
}

juce::AudioPluginFormat* HostContext::formatNamed (const juce::String& name) const
{
    for (auto* format : formats->getFormats())
        if (format->getName() == name)
            return format;

    return nullptr;
}

juce::OwnedArray<juce::PluginDescription> HostContext::findPlugins (const juce::String& path, juce::String& error)
{
    becomeMessageThread();

    if (formats == nullptr)
    {
        // Created on first use: the LV2 format scans every LV2 folder when it is made.
        formats = std::make_unique<juce::AudioPluginFormatManager>();
        formats->addFormat (new juce::VST3PluginFormat());
        formats->addFormat (new juce::LV2PluginFormat());
    }

    juce::OwnedArray<juce::PluginDescription> found;

    if (path.trim().isEmpty())
    {
        error = "no plugin path given";
        return found;
    }

    if (looksLikeUri (path))
    {
        formatNamed ("LV2")->findAllTypesForFile (found, path);

        if (found.isEmpty())
            error = "no LV2 plugin with URI " + path + " is installed";

        return found;
    }

    const auto file = juce::File::getCurrentWorkingDirectory().getChildFile (path);

    if (! file.exists())
    {
        error = "no such plugin: " + file.getFullPathName();
        return found;
    }

    if (file.hasFileExtension ("vst3"))
    {
        formatNamed ("VST3")->findAllTypesForFile (found, file.getFullPathName());

        if (found.isEmpty())
            error = "not a loadable VST3 plugin: " + file.getFullPathName();

        return found;
    }

    if (file.isDirectory() && file.getChildFile ("manifest.ttl").existsAsFile())
        return findLv2InBundle (file, error);

    error = "not a VST3 bundle (.vst3) or an LV2 bundle (folder with manifest.ttl): " + file.getFullPathName();
    return found;
}

juce::OwnedArray<juce::PluginDescription> HostContext::findLv2InBundle (const juce::File& bundle, juce::String& error)
{
    // JUCE's LV2 format knows plugins by URI only; read the bundle with our own lilv world to
    // learn which URIs live in it (a bundle may hold several plugins).
    juce::StringArray uris;
    {
        auto* world = lilv_world_new();
        const auto dir = juce::File::addTrailingSeparator (bundle.getFullPathName());
        auto* bundleUri = lilv_new_file_uri (world, nullptr, dir.toRawUTF8());
        lilv_world_load_bundle (world, bundleUri);

        const auto* plugins = lilv_world_get_all_plugins (world);

        LILV_FOREACH (plugins, it, plugins)
        {
            const auto* plugin = lilv_plugins_get (plugins, it);

            if (lilv_node_equals (lilv_plugin_get_bundle_uri (plugin), bundleUri))
                uris.add (juce::String::fromUTF8 (lilv_node_as_uri (lilv_plugin_get_uri (plugin))));
        }

        lilv_node_free (bundleUri);
        lilv_world_free (world);
    }

    juce::OwnedArray<juce::PluginDescription> found;

    if (uris.isEmpty())
    {
        error = "the LV2 bundle holds no plugin: " + bundle.getFullPathName();
        return found;
    }

    auto* lv2 = formatNamed ("LV2");

    for (const auto& uri : uris)
    {
        juce::OwnedArray<juce::PluginDescription> one;
        lv2->findAllTypesForFile (one, uri);

        if (one.isEmpty())
        {
            // Not in a folder JUCE's LV2 world has read yet: read the bundle's folder.
            lv2->searchPathsForPlugins (juce::FileSearchPath (bundle.getParentDirectory().getFullPathName()),
                                        false, false);
            lv2->findAllTypesForFile (one, uri);
        }

        for (auto* d : one)
            found.add (new juce::PluginDescription (*d));
    }

    if (found.isEmpty())
        error = "JUCE could not read the LV2 bundle " + bundle.getFullPathName();

    return found;
}

std::unique_ptr<juce::AudioPluginInstance> HostContext::createInstance (const juce::PluginDescription& description,
                                                                        double sampleRate, int blockSize,
                                                                        juce::String& error)
{
    becomeMessageThread();
    // VST3 and LV2 instances are made synchronously on the message thread, which is us.
    return formats->createPluginInstance (description, sampleRate, blockSize, error);
}

} // namespace vocalmidi::host
