# Run as `cmake -DTTL=<bundle>/dsp.ttl -P VocalmidiLv2SideChain.cmake` after JUCE's LV2 helper
# wrote the instrument's dsp.ttl: JUCE 7.0.5 declares an instrument's only audio input as its
# main input. Mark its ports as a side-chain (lv2:isSideChain), as the VST3 marks the bus aux,
# so hosts (Ardour) route a side-chain into them instead of the track's own (MIDI) input.
file(READ "${TTL}" _ttl)
string(FIND "${_ttl}" "lv2:isSideChain" _done)
if(_done EQUAL -1)
  string(REGEX REPLACE "(lv2:symbol \"audio_in_[0-9]+\" ;)" "\\1\n\t\tlv2:portProperty lv2:isSideChain ;"
         _ttl "${_ttl}")
  string(REPLACE "\tpg:mainInput plug:input_group_1 ;\n" "" _ttl "${_ttl}")
  file(WRITE "${TTL}" "${_ttl}")
endif()
