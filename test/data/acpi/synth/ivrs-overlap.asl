/*
 * Synthetic IVRS: two IOMMUs whose device entries overlap, for the
 * precedence of uiommu_fw_lookup (table order, as Linux):
 *   IOMMU A (0xFEB80000): range 0000-01FF, alias select 0020 -> 0001,
 *                         "all" is not used (it would take everything);
 *   IOMMU B (0xFEC80000): select 0020 (plain: keeps A's alias),
 *                         select 0150, range 0180-01BF.
 */
[0004]                          Signature : "IVRS"
[0004]                       Table Length : 00000000
[0001]                           Revision : 02
[0001]                           Checksum : 00
[0006]                             Oem ID : "UIOMMU"
[0008]                       Oem Table ID : "OVERLAP"
[0004]                       Oem Revision : 00000001
[0004]                    Asl Compiler ID : "INTL"
[0004]              Asl Compiler Revision : 20200925
[0004]                Virtualization Info : 00203041
[0008]                           Reserved : 0000000000000000

[0001]                      Subtable Type : 10 [Hardware Definition Block]
[0001]                              Flags : B0
[0002]                             Length : 0000
[0002]                           DeviceId : 0002
[0002]                  Capability Offset : 0040
[0008]                       Base Address : 00000000FEB80000
[0002]                  PCI Segment Group : 0000
[0002]                Virtualization Info : 0000
[0004]                  Feature Reporting : 80048F6E

[0001]                         Entry Type : 03
[0002]                          Device ID : 0000
[0001]                       Data Setting : 00

[0001]                         Entry Type : 04
[0002]                          Device ID : 01FF
[0001]                       Data Setting : 00

[0001]                         Entry Type : 42
[0002]                          Device ID : 0020
[0001]                       Data Setting : 00
[0001]                           Reserved : 00
[0002]              Source Used Device ID : 0001
[0001]                           Reserved : 00

[0001]                         Entry Type : 48
[0002]                          Device ID : 0000
[0001]                       Data Setting : 00
[0001]                             Handle : 21
[0002]              Source Used Device ID : 00A0
[0001]                            Variety : 01

[0001]                      Subtable Type : 10 [Hardware Definition Block]
[0001]                              Flags : B0
[0002]                             Length : 0000
[0002]                           DeviceId : 0202
[0002]                  Capability Offset : 0040
[0008]                       Base Address : 00000000FEC80000
[0002]                  PCI Segment Group : 0000
[0002]                Virtualization Info : 0000
[0004]                  Feature Reporting : 80048F6E

[0001]                         Entry Type : 02
[0002]                          Device ID : 0020
[0001]                       Data Setting : 00

[0001]                         Entry Type : 02
[0002]                          Device ID : 0150
[0001]                       Data Setting : 00

[0001]                         Entry Type : 03
[0002]                          Device ID : 0180
[0001]                       Data Setting : 00

[0001]                         Entry Type : 04
[0002]                          Device ID : 01BF
[0001]                       Data Setting : 00

[0001]                         Entry Type : 48
[0002]                          Device ID : 0000
[0001]                       Data Setting : 00
[0001]                             Handle : 22
[0002]              Source Used Device ID : 0200
[0001]                            Variety : 01
