"""The Guide section's markups lists: the drill lines and cut planes ticked in their checkable
selectors are list fields of the parameter node (``qMRMLCheckableNodeComboBox`` has no
``parameterNodeWrapper`` connector, so the panel keeps them in step both ways). ``host`` as in
``export_panel``; the contact markups, technology and thickness are bound by ``connectGui``."""


class GuidePanel:
    """Ticked drill lines and cut planes <-> ``guideTrajectories`` / ``guideCutPlanes``; the guide step."""

    def __init__(self, host) -> None:
        self.host, self.ui = host, host.ui
        self.selectors = {"guideTrajectories": self.ui.guideTrajectoriesSelector,
                          "guideCutPlanes": self.ui.guideCutPlanesSelector}
        for name, selector in self.selectors.items():
            selector.checkedNodesChanged.connect(lambda name=name: self.onCheckedNodesChanged(name))

    def onCheckedNodesChanged(self, name: str) -> None:
        if self.host.parameters is not None:
            setattr(self.host.parameters, name, list(self.selectors[name].checkedNodes()))

    def update(self, case) -> None:
        """Tick the markups the parameter node lists (without echoing the change back)."""
        import qt

        for name, selector in self.selectors.items():
            wanted = {node.GetID() for node in getattr(self.host.parameters, name) if node is not None}
            if wanted != {node.GetID() for node in selector.checkedNodes()}:
                wasBlocked = selector.blockSignals(True)
                for index in range(selector.nodeCount()):
                    node = selector.nodeFromIndex(index)
                    selector.setCheckState(node, qt.Qt.Checked if node.GetID() in wanted else qt.Qt.Unchecked)
                selector.blockSignals(wasBlocked)

    def runStep(self, case, progress) -> str:
        """Write the plan from the markups into the case, then design and verify the guide."""
        parameters, logic = self.host.parameters, self.host.logic
        logic.saveGuidePlan(case, parameters.guideContactPoints, parameters.guideContactCurve,
                            list(parameters.guideTrajectories), list(parameters.guideCutPlanes),
                            parameters.guideTechnology, parameters.guideThickness)
        return logic.runStep(case, "guide", progress)
