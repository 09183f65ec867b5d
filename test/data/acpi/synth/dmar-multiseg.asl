/*
 * Synthetic DMAR: two PCI segments, one INCLUDE_PCI_ALL unit each, a
 * scoped unit on segment 1 (endpoint 00:01.0), an RMRR and an ATSR
 * (ALL_PORTS) on segment 1, RHSA for two units.  (iasl 20200925 loops on a
 * scope with two PCI Path lines; multi-element paths are covered by the
 * real HP ProLiant tables.)
 */
[0004]                          Signature : "DMAR"
[0004]                       Table Length : 00000000
[0001]                           Revision : 01
[0001]                           Checksum : 00
[0006]                             Oem ID : "UIOMMU"
[0008]                       Oem Table ID : "MULTISEG"
[0004]                       Oem Revision : 00000001
[0004]                    Asl Compiler ID : "INTL"
[0004]              Asl Compiler Revision : 20200925
[0001]                 Host Address Width : 33
[0001]                              Flags : 03
[0010]                           Reserved : 00 00 00 00 00 00 00 00 00 00

[0002]                      Subtable Type : 0000 [Hardware Unit Definition]
[0002]                             Length : 0018
[0001]                              Flags : 00
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0001
[0008]              Register Base Address : 00000000D0000000
[0001]                  Device Scope Type : 01 [PCI Endpoint Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 01,00

[0002]                      Subtable Type : 0000 [Hardware Unit Definition]
[0002]                             Length : 0018
[0001]                              Flags : 01
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0001
[0008]              Register Base Address : 00000000D0001000
[0001]                  Device Scope Type : 03 [IOAPIC Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 09
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 05,04

[0002]                      Subtable Type : 0000 [Hardware Unit Definition]
[0002]                             Length : 0018
[0001]                              Flags : 01
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0000
[0008]              Register Base Address : 00000000FED90000
[0001]                  Device Scope Type : 04 [Message-capable HPET Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 1F,00

[0002]                      Subtable Type : 0001 [Reserved Memory Region]
[0002]                             Length : 0020
[0002]                           Reserved : 0000
[0002]                 PCI Segment Number : 0001
[0008]                       Base Address : 0000000080000000
[0008]                End Address (limit) : 00000000800FFFFF
[0001]                  Device Scope Type : 01 [PCI Endpoint Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 02
[0002]                           PCI Path : 00,00

[0002]                      Subtable Type : 0002 [Root Port ATS Capability]
[0002]                             Length : 0008
[0001]                              Flags : 01
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0001

[0002]                      Subtable Type : 0003 [Remapping Hardware Static Affinity]
[0002]                             Length : 0014
[0004]                           Reserved : 00000000
[0008]                       Base Address : 00000000D0000000
[0004]                   Proximity Domain : 00000001

[0002]                      Subtable Type : 0003 [Remapping Hardware Static Affinity]
[0002]                             Length : 0014
[0004]                           Reserved : 00000000
[0008]                       Base Address : 00000000FED90000
[0004]                   Proximity Domain : 00000000
